//! Sessions: a guard that sends `session` start and end events, and whose
//! tool calls and token usage count toward its own totals.

use crate::client::context;
use crate::recorder::session_state::SessionState;
use crate::recorder::{Call, Recorder, Within};
use crate::Outcome;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

/// A running session. Made by [`Telemetry::start_session`](crate::Telemetry::start_session);
/// ending it (with [`Session::end`] or by dropping it) sends the end event
/// with its totals.
///
/// Each session keeps its own totals: a child session started inside
/// another counts its own tool calls and tokens, and never overwrites its
/// parent. A tool call counts toward the session whose id it is recorded
/// with ([`Telemetry::record_tool_call`](crate::Telemetry::record_tool_call)),
/// current or not, as long as that session has not ended, and so do the
/// session's own [`Session::record_tool_call`] and
/// [`Session::record_token_usage`]. Token usage recorded through the client
/// and `#[tracked_tool]` calls name no session: they count toward (and
/// carry the id of) the session that is *current* when they are recorded;
/// make it current with [`Session::scope`] or, in async code,
/// [`WithTelemetry::with_session`](crate::WithTelemetry::with_session).
#[must_use = "a session ends, and sends its end event, when dropped"]
pub struct Session {
    live: Option<Live>,
}

/// A session of an enabled client: its recorder and its state.
pub(crate) struct Live {
    pub(crate) recorder: Arc<Recorder>,
    pub(crate) state: Arc<SessionState>,
}

impl Session {
    /// Starts a session for `agent` and sends its start event; an inert
    /// session without a recorder.
    pub(crate) fn start(recorder: Option<&Arc<Recorder>>, agent: Cow<'static, str>) -> Session {
        Session {
            live: recorder.map(|recorder| Live {
                state: recorder.start_session(agent),
                recorder: Arc::clone(recorder),
            }),
        }
    }

    /// The recorder and state, for an enabled client's session.
    pub(crate) fn live(&self) -> Option<&Live> {
        self.live.as_ref()
    }

    /// The session's id (a random UUID); empty for an inert session.
    #[must_use]
    pub fn id(&self) -> &str {
        self.live.as_ref().map_or("", |live| &live.state.id)
    }

    /// The agent's name; empty for an inert session.
    #[must_use]
    pub fn agent(&self) -> &str {
        self.live.as_ref().map_or("", |live| &live.state.agent)
    }

    /// Runs `f` with this session (and its client) current on this thread.
    pub fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = match &self.live {
            Some(live) => context::enter(
                Some(context::Client::On(Arc::clone(&live.recorder))),
                Some(Arc::clone(&live.state)),
            ),
            None => context::enter(None, None),
        };
        f()
    }

    /// Records a tool call in this session, whatever session is current.
    pub fn record_tool_call(
        &self,
        tool: impl Into<Cow<'static, str>>,
        duration: Duration,
        outcome: Outcome,
    ) {
        if let Some(live) = &self.live {
            let call = Call::Tool {
                name: tool.into(),
                duration,
                outcome,
            };
            live.recorder
                .record(call, Within::Session(Some(&live.state)));
        }
    }

    /// Records one model call's token usage and cost in this session.
    pub fn record_token_usage(
        &self,
        model: impl Into<Cow<'static, str>>,
        input_tokens: u64,
        output_tokens: u64,
        cost: f64,
    ) {
        if let Some(live) = &self.live {
            let call = Call::Token {
                model: model.into(),
                input: input_tokens,
                output: output_tokens,
                cost,
            };
            live.recorder
                .record(call, Within::Session(Some(&live.state)));
        }
    }

    /// Counts an error of the given kind (a type name or fixed word, never a
    /// message) toward this session's `error_count`.
    pub fn record_error(&self, kind: &str) {
        if let Some(live) = &self.live {
            live.state.count_error(kind);
        }
    }

    /// Ends the session and sends its end event.
    pub fn end(self) {
        drop(self);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(live) = &self.live {
            if std::thread::panicking() {
                live.state.count_error("panic");
            }
            live.recorder.end_session(&live.state);
        }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id())
            .field("agent", &self.agent())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::{Event, Outcome, MAX_NAME_LEN};
    use std::time::Duration;

    #[test]
    fn a_long_error_kind_seen_twice_is_listed_once() {
        let (telemetry, sink) = crate::memory_client("session-test");
        let long = "k".repeat(MAX_NAME_LEN + 10);
        let session = telemetry.start_session("a");
        session.record_error(&long);
        session.record_tool_call("t", Duration::ZERO, Outcome::failure(long.clone()));
        session.end();
        let records = sink.records();
        let Some(Event::SessionEnd(end)) = records.last().map(|r| r.event()) else {
            panic!("no session end");
        };
        assert_eq!(end.error_count, 2);
        assert_eq!(end.errors, [&long[..MAX_NAME_LEN]]);
    }
}
