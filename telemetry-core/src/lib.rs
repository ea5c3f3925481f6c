//! Anonymous, opt-out usage telemetry for Rust command-line programs and
//! AI-agent runtimes.
//!
//! Annotate command handlers with `#[tracked_command]` and tool functions
//! with `#[tracked_tool]`; each call is timed, its success or failure
//! captured, and a typed event handed to the recorder, which sends it inline
//! (the call returns once the collector answered or the attempt failed; or,
//! opted in, spools it and sends batches in the background) and honours the
//! opt-out (`TELEMETRY_ENABLED=false`, `DO_NOT_TRACK=1`). The
//! wire format is that of Docker's `cagent`.
//!
//! # The recording flow
//!
//! ```
//! use std::time::Duration;
//! use telemetry_core::{MemorySink, Outcome, Telemetry};
//!
//! // In a real program:
//! // Telemetry::builder("my-agent", "1.2.0").endpoint("https://collector.example/v1/events")
//! // Here, an isolated client (no notice, no environment, no files) records
//! // into memory.
//! let sink = MemorySink::new();
//! let telemetry = Telemetry::isolated("my-agent", "1.2.0")
//!     .sink(sink.clone())
//!     .build();
//!
//! // A command ran; only flag names are kept.
//! telemetry.track_command("run", ["--model=gpt-4", "my secret prompt"]);
//!
//! // A session, its tool calls and token usage.
//! let session = telemetry.start_session("root");
//! session.scope(|| {
//!     telemetry.record_tool_call("read_file", session.id(), "root",
//!         Duration::from_millis(12), Outcome::Success);
//!     telemetry.record_token_usage("gpt-4o", 1200, 300, 0.0125);
//! });
//! session.end();
//!
//! let kinds: Vec<&str> = sink.records().iter().map(|r| r.event().kind()).collect();
//! assert_eq!(kinds, ["command", "session", "tool", "token", "session"]);
//! let end = serde_json::to_value(&sink.records()[4]).unwrap();
//! assert_eq!(end["properties"]["tool_calls"], 1);
//! assert_eq!(end["properties"]["total_tokens"], 1500);
//! ```
//!
//! # Tracking functions: `#[tracked_command]` and `#[tracked_tool]`
//!
//! Put `#[tracked_command]` on command handlers and `#[tracked_tool]` on
//! tool functions (sync or `async`, free fns or methods); each call is then
//! recorded on the [`current`] client, a tool in the current session.
//!
//! ```
//! use telemetry_core::{tracked_command, tracked_tool, MemorySink, Telemetry};
//!
//! #[tracked_command(name = "run")]
//! fn run_prompt(prompt: &str) -> std::io::Result<usize> {
//!     read_file(prompt)
//! }
//!
//! #[tracked_tool]
//! fn read_file(path: &str) -> std::io::Result<usize> {
//!     Err(std::io::Error::other(format!("{path}: not found")))
//! }
//!
//! let sink = MemorySink::new();
//! let telemetry = Telemetry::isolated("my-agent", "1.2.0").sink(sink.clone()).build();
//! let session = telemetry.start_session("root");
//! let result = session.scope(|| run_prompt("secret-plans.txt"));
//! session.end();
//! assert!(result.is_err()); // returned unchanged
//!
//! let records: Vec<serde_json::Value> =
//!     sink.records().iter().map(|r| serde_json::to_value(r).unwrap()).collect();
//! let kinds: Vec<_> = records.iter().map(|r| r["event"].as_str().unwrap()).collect();
//! assert_eq!(kinds, ["session", "tool", "command", "session"]);
//! let tool = &records[1]["properties"];
//! assert_eq!(tool["tool_name"], "read_file");
//! assert_eq!(tool["error"], "std::io::error::Error"); // the type, not the message
//! assert_eq!(tool["session_id"], records[0]["properties"]["session_id"]);
//! assert_eq!(records[2]["properties"]["action"], "run");
//! assert_eq!(records[3]["properties"]["tool_calls"], 1);
//! assert!(!serde_json::to_string(&records).unwrap().contains("secret"));
//! ```
//!
//! An `async fn` is timed from its first poll to its completion; carry the
//! session into the future with [`WithTelemetry::with_session`]:
//!
//! ```
//! use telemetry_core::{tracked_tool, MemorySink, Telemetry, WithTelemetry};
//!
//! #[tracked_tool(name = "web.search")]
//! async fn search(query: &str) -> Result<Vec<String>, std::fmt::Error> {
//!     Ok(vec![format!("{} results", query.len())])
//! }
//!
//! let sink = MemorySink::new();
//! let telemetry = Telemetry::isolated("my-agent", "1.2.0").sink(sink.clone()).build();
//! let session = telemetry.start_session("researcher");
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! let found = runtime.block_on(search("rust").with_session(&session)).unwrap();
//! assert_eq!(found, ["4 results"]);
//! let tool = serde_json::to_value(&sink.records()[1]).unwrap();
//! assert_eq!(tool["properties"]["tool_name"], "web.search");
//! assert_eq!(tool["properties"]["agent_name"], "researcher");
//! ```
//!
//! | The expansion records | It never records |
//! |---|---|
//! | the name: the function's, or `name = "..."` | argument values: it never reads a parameter |
//! | the duration, on a monotonic clock | the return value |
//! | success; or failure, kind = the error *type's* name, for an `Err` of any `Result` (aliases included) | the error's message (`Display`, `Debug`) |
//! | `panic` when the body panics (the panic then continues unchanged) | the panic's message or payload |
//! | `cancelled` when an async call is dropped before it completes | |
//! | commands: the flag names of the process's command line | flag values and positionals |
//! | tools: the current session's id and agent, counted in its totals | |
//!
//! When telemetry is off, or there is no current client, a tracked call costs
//! one relaxed atomic load: no clock read, no allocation. The outcome follows
//! the declared return type, so a generic `T` is a success even when it is a
//! `Result`. A future dropped before its first poll never ran, and records
//! nothing; a `-> !` function records only a panic; a function that returns
//! `impl Future` without being `async fn` is timed until the future is built.
//! Not supported (a compile error): `const fn`, `#[track_caller]`.
//!
//! # Testing your own code
//!
//! [`Telemetry::isolated`] makes a client that reads no environment
//! variable, shows no notice and touches no file; give it a [`MemorySink`]
//! and assert on [`MemorySink::records`]. Without an `http` feature
//! (`default-features = false`), the crate builds without its HTTP stack:
//! a client then needs a sink, and an endpoint alone turns it off
//! ([`OffReason::NoHttpSupport`]).
//!
//! # Decisions
//!
//! - A tracked command's `args` are the flag names of the process's own
//!   command line (`std::env::args`, filtered like
//!   [`Telemetry::track_command`]); the macros never read a parameter.
//!   A single-dash flag keeps its one letter only: `-pPASSWORD` is sent as
//!   `-p`, since what follows may be an attached value.
//! - [`Telemetry::record_tool_call`] is explicit: the event carries the
//!   session id and agent passed, never the current session's. When a live
//!   session of the same client has that id, the call also counts toward
//!   its totals. Token usage and `#[tracked_tool]` belong to the session
//!   current when they start ([`Session::scope`],
//!   [`WithTelemetry::with_session`]).
//! - `DO_NOT_TRACK` with a value that is neither true nor false (or not
//!   UTF-8) is read as a wish not to be tracked.
//! - `TELEMETRY_HIDE_BANNER=1` hides the notice, so there is nothing for the
//!   user to read first: that run sends, and no marker is written.
//! - When the notice marker cannot be written (no config dir, read-only
//!   dir), the notice is shown and nothing is sent, on every run: data never
//!   leaves a machine whose user may not have seen the notice
//!   ([`HoldReason`]). An isolated client shows no notice, so it holds
//!   nothing.
//! - Why a client is off is an [`OffReason`] ([`Telemetry::off_reason`]);
//!   its text is the line debug mode prints.
//! - A debug file or writer turns debug mode on, unless `debug(false)` is
//!   called, in either order.
//! - The HTTP sink stops after a transport failure, for the rest of the
//!   process ([`FailurePolicy::StopAfterTransportFailure`]); a sink of your
//!   own keeps going unless its [`Sink::failure_policy`] says otherwise,
//!   and the debug log follows the policy.
//! - Names (command, tool, model, agent) and error kinds are cut to
//!   [`MAX_NAME_LEN`] bytes; tags to 32 entries of 64-byte keys and 256-byte
//!   values; flag lists to 32 names of at most 64 bytes; a `NaN`, infinite
//!   or negative cost is sent as `0`; token totals saturate at `u64::MAX`.
//!   Every record therefore stays within [`MAX_RECORD_LEN`] (80 KiB)
//!   whatever the input; a typical record is under 1 KiB.
//! - Events, [`Outcome`], [`SendError`], [`OffReason`], [`HoldReason`],
//!   [`FailurePolicy`], [`Delivery`] and [`Flushed`] are
//!   `#[non_exhaustive]`: match them with a wildcard arm.
//! - Delivery is inline unless the builder asks for
//!   [`Delivery::Background`] (see `docs/delivery.md` for which to choose).
//!   Background mode spools each record to
//!   `<config dir>/telemetry-spool-<random>.jsonl` (0600, one file per
//!   process, locked while it lives) and sends batches of up to 2,000
//!   records (2 MiB) from one thread. It flushes at the end of the
//!   outermost `#[tracked_command]`, on [`Telemetry::flush`] and when the
//!   [`FlushGuard`] drops, each within the exit budget (1 s); after a flush
//!   point ran out of it, the next one does not wait again until a flush
//!   completes, so a silent collector costs a process one exit budget.
//!   What is left is sent first by the next run with telemetry on. An
//!   isolated client (no config dir) spools in memory only. A sink that
//!   does not implement [`Sink::send_serialised`] is used inline.
//! - Opting out (`DO_NOT_TRACK`, `TELEMETRY_ENABLED`, any rule of the
//!   opt-out) deletes the spool files in the config dir, unsent, and
//!   creates nothing. Other reasons to be off (no endpoint, a bad setting)
//!   leave them for a later run.
//! - The HTTP sink has a time budget for the whole process, in every mode
//!   (default 2 × the timeout, [`TelemetryBuilder::time_budget`]): each
//!   request is charged its wait beyond 100 ms, and its deadline is cut to
//!   what is left; once spent, delivery stops for the process
//!   ([`SendError::BudgetSpent`], one debug line). A healthy collector
//!   never spends it; one answering just under the timeout costs about the
//!   budget in all.
//! - The HTTP sink sends a request once more only after it failed with no
//!   answer on a reused keep-alive connection (the server closed it as the
//!   request went out); never after a failure on a fresh connection, which
//!   the server may have read.

#![warn(missing_docs)]

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
#[doc(hidden)]
pub mod args;
// Public (hidden) for benches/background.rs.
#[doc(hidden)]
pub mod background;
mod builder;
mod context;
mod debug_log;
mod delivery;
mod env;
mod event;
mod future;
mod identity;
mod limits;
mod notice;
mod opt_out;
mod outcome;
mod random;
mod reason;
mod record;
mod recorder;
mod session;
mod settings;
mod sink;
#[doc(hidden)]
pub mod spool;
#[doc(hidden)]
pub mod tags;
mod telemetry;
mod tracked;

pub use background::Flushed;
pub use builder::TelemetryBuilder;
pub use delivery::{Delivery, FlushGuard};
pub use event::{CommandEvent, Event, SessionEndEvent, SessionStartEvent, TokenEvent, ToolEvent};
pub use future::{Scoped, WithTelemetry};
pub use identity::{NOTICE_MARKER_FILE, USER_UUID_FILE};
pub use limits::{MAX_NAME_LEN, MAX_RECORD_LEN, MAX_SESSION_ERROR_KINDS};
pub use outcome::Outcome;
pub use reason::{HoldReason, OffReason};
pub use record::Record;
pub use session::Session;
pub use sink::{FailurePolicy, MemorySink, SendError, Sink, DEFAULT_TIMEOUT};
#[cfg(feature = "http")]
pub use sink::{HttpSink, InvalidSetting};
pub use telemetry::{current, set_global, Telemetry};
pub use telemetry_macros::{tracked_command, tracked_tool};

use std::borrow::Cow;
use std::time::Duration;

/// [`Telemetry::track_command`] on the [`current`] client; nothing without one.
pub fn track_command<I, S>(action: impl Into<Cow<'static, str>>, args: I)
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    if let Some(telemetry) = current() {
        telemetry.track_command(action, args);
    }
}

/// [`Telemetry::record_tool_call`] on the [`current`] client; nothing without one.
pub fn record_tool_call(
    tool: impl Into<Cow<'static, str>>,
    session_id: &str,
    agent: &str,
    duration: Duration,
    outcome: Outcome,
) {
    if let Some(telemetry) = current() {
        telemetry.record_tool_call(tool, session_id, agent, duration, outcome);
    }
}

/// [`Telemetry::record_token_usage`] on the [`current`] client; nothing without one.
pub fn record_token_usage(
    model: impl Into<Cow<'static, str>>,
    input_tokens: u64,
    output_tokens: u64,
    cost: f64,
) {
    if let Some(telemetry) = current() {
        telemetry.record_token_usage(model, input_tokens, output_tokens, cost);
    }
}

/// [`Telemetry::start_session`] on the [`current`] client; an inert session
/// without one.
pub fn start_session(agent: impl Into<Cow<'static, str>>) -> Session {
    current().unwrap_or_default().start_session(agent)
}

/// For unit tests: an isolated client recording into a fresh [`MemorySink`].
#[cfg(test)]
pub(crate) fn memory_client(app: &str) -> (Telemetry, MemorySink) {
    let sink = MemorySink::new();
    let telemetry = Telemetry::isolated(app, "1").sink(sink.clone()).build();
    (telemetry, sink)
}
