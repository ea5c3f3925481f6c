//! What the runtime tests share: a client recording into a `MemorySink`,
//! and the recorded calls in a form that is easy to assert on.

#![allow(dead_code)] // each test binary uses part of this

use std::sync::Arc;
use std::task::{Wake, Waker};
use telemetry_core::{Event, MemorySink, Outcome, SessionEndEvent, Telemetry};
use telemetry_test_support::memory_client;

/// An enabled client that records into the returned sink, ignoring the
/// process environment and showing no notice.
pub fn client() -> (Telemetry, MemorySink) {
    memory_client("app")
}

/// A `command` or `tool` event, flattened.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `command` or `tool`.
    pub kind: &'static str,
    pub name: String,
    pub is_success: bool,
    /// The error kind as sent: `None` on success.
    pub error: Option<String>,
    pub duration_ms: u64,
    /// Empty for commands and for tools outside a session.
    pub session_id: String,
    pub agent: String,
    /// Flag names, for commands.
    pub args: Vec<String>,
}

/// Every command and tool event recorded so far, oldest first.
pub fn calls(sink: &MemorySink) -> Vec<Call> {
    sink.records()
        .iter()
        .filter_map(|record| match record.event() {
            Event::Command(event) => Some(Call {
                args: event.args.clone(),
                ..Call::new("command", &event.action, &event.outcome, event.duration_ms)
            }),
            Event::Tool(event) => Some(Call {
                session_id: event.session_id.to_string(),
                agent: event.agent_name.to_string(),
                ..Call::new("tool", &event.tool_name, &event.outcome, event.duration_ms)
            }),
            _ => None,
        })
        .collect()
}

impl Call {
    /// A call outside any session, without flags.
    fn new(kind: &'static str, name: &str, outcome: &Outcome, duration_ms: u64) -> Call {
        Call {
            kind,
            name: name.to_owned(),
            is_success: outcome.is_success(),
            error: outcome.error_kind().map(str::to_owned),
            duration_ms,
            session_id: String::new(),
            agent: String::new(),
            args: Vec::new(),
        }
    }
}

/// The one command or tool event recorded so far.
pub fn only_call(sink: &MemorySink) -> Call {
    let calls = calls(sink);
    assert_eq!(calls.len(), 1, "expected exactly one call: {calls:#?}");
    calls.into_iter().next().unwrap()
}

/// Every session end event recorded so far.
pub fn session_ends(sink: &MemorySink) -> Vec<SessionEndEvent> {
    sink.records()
        .iter()
        .filter_map(|record| match record.event() {
            Event::SessionEnd(end) => Some(end.clone()),
            _ => None,
        })
        .collect()
}

/// Asserts a successful call of this kind and name, with a plausible
/// duration (no timing assertion beyond that).
#[track_caller]
pub fn assert_success(call: &Call, kind: &str, name: &str) {
    assert_eq!((call.kind, call.name.as_str()), (kind, name), "{call:#?}");
    assert!(call.is_success, "{call:#?}");
    assert_eq!(call.error, None);
    assert!(call.duration_ms < 10_000, "{call:#?}");
}

/// Asserts a failed call of this kind and name, with this error kind.
#[track_caller]
pub fn assert_failure(call: &Call, kind: &str, name: &str, error: &str) {
    assert_eq!((call.kind, call.name.as_str()), (kind, name), "{call:#?}");
    assert!(!call.is_success, "{call:#?}");
    assert_eq!(call.error.as_deref(), Some(error));
    assert!(call.duration_ms < 10_000, "{call:#?}");
}

/// A waker that does nothing, for tests that poll a future by hand.
pub fn noop_waker() -> Waker {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    Waker::from(Arc::new(Noop))
}
