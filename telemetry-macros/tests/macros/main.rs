//! The macros' runtime tests, one module per behaviour, in one test
//! executable (`cargo test -p telemetry-macros --test macros [module::]`):
//! what a tracked function records, and that it behaves exactly as without
//! the attribute. `compiletest` is the trybuild UI suite (`ui/`);
//! `test_lints.rs` stays a crate of its own, as its crate-level lint
//! settings are what it tests.

mod common;
mod compiletest;
mod error_kinds;
mod outcomes;
mod sessions;
mod shapes_async;
mod shapes_sync;
mod telemetry_off;
