//! Sessions: a guard that sends `session` start and end events and keeps the
//! session's own totals.

use crate::context;
use crate::event::{
    bounded_name, sane_cost, Event, SessionEndEvent, SessionStartEvent, MAX_SESSION_ERROR_KINDS,
};
use crate::{random, Outcome, Telemetry};
use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

/// A running session. Made by [`Telemetry::start_session`]; ending it (with
/// [`Session::end`] or by dropping it) sends the end event with its totals.
///
/// Each session keeps its own totals: a child session started inside
/// another counts its own tool calls and tokens, and never overwrites its
/// parent. A tool call counts toward the session whose id it is recorded
/// with ([`Telemetry::record_tool_call`]), current or not, as long as that
/// session has not ended. Token usage carries no session id, so it counts
/// toward the session that is *current* when it is recorded: make it
/// current with [`Session::scope`] or, in async code,
/// [`WithTelemetry::with_session`](crate::WithTelemetry::with_session).
#[must_use = "a session ends, and sends its end event, when dropped"]
pub struct Session {
    state: Option<Arc<SessionState>>,
}

/// What a session shares with the scopes and futures it is current in.
pub(crate) struct SessionState {
    pub(crate) telemetry: Telemetry,
    pub(crate) id: Arc<str>,
    pub(crate) agent: Arc<str>,
    started: Instant,
    totals: Mutex<Totals>,
}

#[derive(Default)]
struct Totals {
    ended: bool,
    tool_calls: u64,
    input_tokens: u64,
    output_tokens: u64,
    cost: f64,
    error_count: u64,
    errors: Vec<Cow<'static, str>>,
}

impl Totals {
    fn add_error(&mut self, kind: &str) {
        self.error_count = self.error_count.saturating_add(1);
        // Compared as listed (cut to a name's length), so that a long kind
        // seen twice is listed once.
        let kind = crate::tags::truncate_at_char_boundary(kind, crate::MAX_NAME_LEN);
        let known = self.errors.iter().any(|seen| seen == kind);
        if !known && self.errors.len() < MAX_SESSION_ERROR_KINDS {
            self.errors.push(Cow::Owned(kind.to_owned()));
        }
    }
}

impl Session {
    /// Starts a session for `agent` on an enabled client and sends its start
    /// event; on a disabled client, an inert session.
    pub(crate) fn start(telemetry: &Telemetry, agent: Cow<'static, str>) -> Session {
        if !telemetry.is_enabled() {
            return Session { state: None };
        }
        let agent: Arc<str> = Arc::from(&*bounded_name(agent));
        let id: Arc<str> = Arc::from(random::format_uuid(random::uuid_v4()));
        telemetry.emit(Event::SessionStart(SessionStartEvent {
            session_id: Arc::clone(&id),
            agent_name: Arc::clone(&agent),
        }));
        let state = Arc::new(SessionState {
            telemetry: telemetry.clone(),
            id,
            agent,
            started: Instant::now(),
            totals: Mutex::new(Totals::default()),
        });
        if let Some(live) = telemetry.live_sessions() {
            live.register(&state);
        }
        Session { state: Some(state) }
    }

    pub(crate) fn state(&self) -> Option<&Arc<SessionState>> {
        self.state.as_ref()
    }

    /// The session's id (a random UUID); empty for an inert session.
    pub fn id(&self) -> &str {
        self.state.as_ref().map_or("", |state| &state.id)
    }

    /// The agent's name; empty for an inert session.
    pub fn agent(&self) -> &str {
        self.state.as_ref().map_or("", |state| &state.agent)
    }

    /// Runs `f` with this session (and its client) current on this thread.
    pub fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = context::enter(
            self.state.as_ref().map(|state| state.telemetry.clone()),
            self.state.clone(),
        );
        f()
    }

    /// Records a tool call in this session, whatever session is current.
    pub fn record_tool_call(
        &self,
        tool: impl Into<Cow<'static, str>>,
        duration: Duration,
        outcome: Outcome,
    ) {
        if let Some(state) = &self.state {
            state.record_tool_call(tool.into(), duration, outcome);
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
        if let Some(state) = &self.state {
            state.record_token_usage(model.into(), input_tokens, output_tokens, cost);
        }
    }

    /// Counts an error of the given kind (a type name or fixed word, never a
    /// message) toward this session's `error_count`.
    pub fn record_error(&self, kind: &str) {
        if let Some(state) = &self.state {
            state.lock().add_error(kind);
        }
    }

    /// Ends the session and sends its end event.
    pub fn end(self) {
        drop(self);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(state) = &self.state {
            if std::thread::panicking() {
                state.lock().add_error("panic");
            }
            state.end();
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

impl SessionState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Totals> {
        self.totals.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends a tool event with this session's id and counts it.
    pub(crate) fn record_tool_call(
        &self,
        tool: Cow<'static, str>,
        duration: Duration,
        outcome: Outcome,
    ) {
        self.count_tool_call(&outcome);
        self.telemetry.emit_tool(
            tool,
            Arc::clone(&self.id),
            Arc::clone(&self.agent),
            duration,
            outcome,
        );
    }

    pub(crate) fn count_tool_call(&self, outcome: &Outcome) {
        let mut totals = self.lock();
        totals.tool_calls = totals.tool_calls.saturating_add(1);
        if let Some(kind) = outcome.error_kind() {
            totals.add_error(kind);
        }
    }

    pub(crate) fn record_token_usage(
        &self,
        model: Cow<'static, str>,
        input: u64,
        output: u64,
        cost: f64,
    ) {
        {
            let mut totals = self.lock();
            totals.input_tokens = totals.input_tokens.saturating_add(input);
            totals.output_tokens = totals.output_tokens.saturating_add(output);
            totals.cost += sane_cost(cost);
        }
        self.telemetry.emit_token(
            model,
            Arc::clone(&self.id),
            Arc::clone(&self.agent),
            input,
            output,
            cost,
        );
    }

    fn end(&self) {
        let totals = {
            let mut totals = self.lock();
            if totals.ended {
                return;
            }
            let final_totals = std::mem::take(&mut *totals);
            totals.ended = true;
            final_totals
        };
        if let Some(live) = self.telemetry.live_sessions() {
            live.unregister(self);
        }
        self.telemetry.emit(Event::SessionEnd(SessionEndEvent {
            session_id: Arc::clone(&self.id),
            agent_name: Arc::clone(&self.agent),
            duration_ms: millis(self.started.elapsed()),
            tool_calls: totals.tool_calls,
            input_tokens: totals.input_tokens,
            output_tokens: totals.output_tokens,
            cost: sane_cost(totals.cost),
            error_count: totals.error_count,
            errors: totals.errors,
        }));
    }
}

/// The sessions of one client that have started and not yet ended, so that
/// a tool call recorded with a session's id counts toward that session even
/// where it is not current. The lock is held only to look up or update the
/// list, never while sending.
#[derive(Default)]
pub(crate) struct LiveSessions {
    sessions: Mutex<Vec<Weak<SessionState>>>,
}

impl LiveSessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Weak<SessionState>>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn register(&self, state: &Arc<SessionState>) {
        let mut sessions = self.lock();
        // A session whose guard was leaked and whose state is gone.
        sessions.retain(|weak| weak.strong_count() > 0);
        sessions.push(Arc::downgrade(state));
    }

    fn unregister(&self, state: &SessionState) {
        self.lock()
            .retain(|weak| weak.strong_count() > 0 && !std::ptr::eq(weak.as_ptr(), state));
    }

    /// The live session with this id, the most recently started first.
    pub(crate) fn find(&self, id: &str) -> Option<Arc<SessionState>> {
        if id.is_empty() {
            return None;
        }
        self.lock()
            .iter()
            .rev()
            .filter_map(Weak::upgrade)
            .find(|state| &*state.id == id)
    }
}

/// Whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
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
        let events = sink.events();
        let Some(Event::SessionEnd(end)) = events.last().map(|r| r.event()) else {
            panic!("no session end");
        };
        assert_eq!(end.error_count, 2);
        assert_eq!(end.errors, [&long[..MAX_NAME_LEN]]);
    }
}
