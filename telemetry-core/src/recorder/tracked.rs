//! A tracked call in progress: what the expansion of `#[tracked_command]`
//! and `#[tracked_tool]` runs (re-exported, hidden, as `__private`).
//!
//! The expansion of a tracked function is, in outline:
//!
//! ```text
//! let call = if __private::active() { __private::start_tool("name") } else { None };
//! let ret = __private::call_once(move || -> Ret { /* the original body */ });
//! if let Some(call) = call {
//!     call.finish((&__private::Returned(&ret)).outcome());
//! }
//! ret
//! ```
//!
//! (An `async fn` awaits `async move { /* the original body */ }` instead.)
//! If the body panics, or its future is dropped before completing, `call` is
//! dropped unfinished and its `Drop` records `panic` or `cancelled`.

use crate::client::context;
use crate::recorder::session_state::SessionState;
use crate::recorder::{self, Call, Recorder, Within};
use crate::Outcome;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

/// `true` once an enabled client exists: one relaxed atomic load.
#[inline]
#[must_use]
pub fn active() -> bool {
    recorder::any_active()
}

/// A tracked call in progress; records its event when finished or dropped.
#[must_use]
pub struct TrackedCall {
    recorder: Arc<Recorder>,
    kind: CallKind,
    name: &'static str,
    started: Instant,
    finished: bool,
}

enum CallKind {
    Command,
    /// A tool call, in the session that was current when it started.
    Tool(Option<Arc<SessionState>>),
}

/// Starts timing a command, when there is an enabled current client.
///
/// `#[cold]`, like [`start_tool`]: the caller's code for "telemetry off" is
/// then the straight path (a load, a branch, the body) and the frame for a
/// tracked call is set up only on the branch that calls this.
#[cold]
#[must_use]
pub fn start_command(name: &'static str) -> Option<TrackedCall> {
    let recorder = current_recorder()?;
    recorder.command_began();
    Some(TrackedCall::new(recorder, name, CallKind::Command))
}

/// Starts timing a tool call, when there is an enabled current client; the
/// call belongs to the session of that client current now, if any.
#[cold]
#[must_use]
pub fn start_tool(name: &'static str) -> Option<TrackedCall> {
    let recorder = current_recorder()?;
    let session = recorder.current_session();
    Some(TrackedCall::new(recorder, name, CallKind::Tool(session)))
}

fn current_recorder() -> Option<Arc<Recorder>> {
    context::current()?.recorder().cloned()
}

impl TrackedCall {
    fn new(recorder: Arc<Recorder>, name: &'static str, kind: CallKind) -> TrackedCall {
        TrackedCall {
            recorder,
            kind,
            name,
            started: Instant::now(),
            finished: false,
        }
    }

    /// Records the call's event with this outcome.
    pub fn finish(mut self, outcome: Outcome) {
        self.record(outcome);
    }

    fn record(&mut self, outcome: Outcome) {
        self.finished = true;
        let duration = self.started.elapsed();
        let name = Cow::Borrowed(self.name);
        match &self.kind {
            CallKind::Command => {
                let _announced = self.recorder.command_ending();
                let call = Call::Command {
                    action: name,
                    args: self.recorder.process_flags(),
                    duration,
                    outcome,
                };
                self.recorder.record(call, Within::Session(None));
                // The end of the outermost command is a flush point.
                self.recorder.command_ended();
            }
            CallKind::Tool(session) => {
                let call = Call::Tool {
                    name,
                    duration,
                    outcome,
                };
                self.recorder
                    .record(call, Within::Session(session.as_ref()));
            }
        }
    }
}

impl Drop for TrackedCall {
    fn drop(&mut self) {
        if !self.finished {
            let outcome = if std::thread::panicking() {
                Outcome::Panicked
            } else {
                Outcome::Cancelled
            };
            self.record(outcome);
        }
    }
}

/// Runs a sync tracked function's body, wrapped in a `move` closure.
///
/// Passing the closure through an `FnOnce` bound makes the compiler infer it
/// as `FnOnce`, so the body may return a borrow of a reference it captured
/// (`fn get(&mut self) -> &mut T`), which an inferred `FnMut` closure could
/// not; the expansion need not name any parameter to force it.
#[inline]
pub fn call_once<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// Wraps a tracked function's return value to classify it by autoref
/// specialisation: `(&Returned(&value)).outcome()` picks [`ResultOutcome`]
/// for any `Result` (aliases included) and [`PlainOutcome`] for the rest.
pub struct Returned<'a, T: ?Sized>(pub &'a T);

/// `Ok` → success; `Err` → failure whose kind is the error type's name.
pub trait ResultOutcome {
    /// The outcome of this return value.
    fn outcome(&self) -> Outcome;
}

impl<T, E> ResultOutcome for Returned<'_, Result<T, E>> {
    fn outcome(&self) -> Outcome {
        Outcome::from(self.0)
    }
}

/// Any value that is not a `Result` is a success.
pub trait PlainOutcome {
    /// The outcome of this return value.
    fn outcome(&self) -> Outcome;
}

impl<T: ?Sized> PlainOutcome for &Returned<'_, T> {
    fn outcome(&self) -> Outcome {
        Outcome::Success
    }
}
