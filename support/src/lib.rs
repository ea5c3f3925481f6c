//! What the telemetry toolkit's tests, and its demo, share: written once
//! here instead of once per test file (the model is tracing's
//! `tracing-mock`). Not published.
//!
//! - [`collector`]: the loopback HTTP collector that the tests, the
//!   `collector` example and the benchmarks send real HTTP to.
//! - [`client`]: [`isolated`], a client builder that reads no environment and
//!   shows no notice, and [`memory_client`].
//! - [`MemoryWriter`]: a debug log or notice writer a test reads back, and
//!   [`debug_log`] to take its lines apart.
//! - [`TempDir`], and [`fs`] to list what a run wrote.
//! - [`is_uuid`], [`is_uuid_v4`], [`json`] (strict parsing, now in ms).
//! - [`net`]: a refusing port, and a port that counts connections.
//! - [`threads`]: this process's threads.
//! - [`canary`]: unique markers planted where private data enters.
//! - [`agent`]: building and running the `agent` example as a process.
//! - [`process`]: running one test alone in a process of its own.
//! - [`marker`]: making a second run a later run (the notice marker dated
//!   back, or waited on).
//! - [`records`]: the kinds, ids and properties of received records, and
//!   the rule that none arrives twice.
//! - [`spool`]: the background spool's files, read and written from
//!   outside by their documented format.
//!
//! Test helpers may panic: a panic is how a test reports what broke. What the
//! demo uses ([`TempDir::try_new`], [`agent::build`]) returns errors instead.

pub mod agent;
pub mod canary;
pub mod client;
pub mod collector;
pub mod debug_log;
pub mod fs;
pub mod json;
pub mod marker;
pub mod net;
pub mod process;
pub mod records;
pub mod spool;
mod temp_dir;
pub mod threads;
mod uuid;
mod writer;

pub use client::{isolated, memory_client};
pub use temp_dir::TempDir;
pub use uuid::{is_uuid, is_uuid_v4};
pub use writer::MemoryWriter;
