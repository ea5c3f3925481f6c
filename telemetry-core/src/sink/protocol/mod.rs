//! What [`HttpSink`](crate::HttpSink) puts on the wire and how it reads the
//! answer: cagent's `{"records":[...]}`, or an OTLP/HTTP JSON logs request.
//! The transport (clients, threads, timeouts, the stop rule) is the same.
//!
//! The OTLP mapping ([`otlp`]) needs no HTTP client and is public: the
//! collector reads it back.

#[cfg(feature = "http")]
mod answer;
#[cfg(feature = "http")]
mod dialect;
pub mod otlp;

#[cfg(feature = "http")]
pub(in crate::sink) use answer::RejectedCount;
#[cfg(feature = "http")]
pub(in crate::sink) use dialect::{Answer, Protocol};
