//! The client handle: records events and hands them to the sink, inline.

use crate::context;
use crate::debug_log::DebugLog;
use crate::event::{
    bounded_name, bounded_outcome, sane_cost, CommandEvent, Event, TokenEvent, ToolEvent,
};
use crate::record::{Record, RecordContext};
use crate::session::{millis, LiveSessions, Session, SessionState};
use crate::sink::{SendError, Sink};
use crate::{args, Outcome, TelemetryBuilder};
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The telemetry client: a cheap `Clone` handle. Every recording call sends
/// its event inline and returns once the collector answered or the attempt
/// failed, so nothing is left in flight when the program exits.
///
/// Build one with [`Telemetry::builder`]; a disabled client
/// ([`Telemetry::disabled`], or any client the opt-out turned off) does
/// nothing at all.
#[derive(Clone, Default)]
pub struct Telemetry {
    recorder: Option<Arc<Recorder>>,
}

/// What an enabled client shares between its clones.
pub(crate) struct Recorder {
    pub(crate) context: Arc<RecordContext>,
    pub(crate) sink: Arc<dyn Sink>,
    /// Why nothing may be sent this run (the first-run notice was shown).
    pub(crate) hold: Option<&'static str>,
    pub(crate) debug: Option<DebugLog>,
    /// Set once a transport failure has been logged.
    pub(crate) stop_logged: AtomicBool,
    /// Sessions started and not yet ended, found by id.
    pub(crate) sessions: LiveSessions,
}

impl Telemetry {
    /// Starts configuring a client for the app `app` at version `version`.
    pub fn builder(app: impl Into<String>, version: impl Into<String>) -> TelemetryBuilder {
        TelemetryBuilder::new(app.into(), version.into())
    }

    /// A client that records nothing.
    pub fn disabled() -> Telemetry {
        Telemetry { recorder: None }
    }

    pub(crate) fn from_recorder(recorder: Recorder) -> Telemetry {
        context::mark_active();
        Telemetry {
            recorder: Some(Arc::new(recorder)),
        }
    }

    /// `true` when this client records events.
    pub fn is_enabled(&self) -> bool {
        self.recorder.is_some()
    }

    /// Runs `f` with this client current on this thread (see
    /// [`current`](crate::current)).
    pub fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = context::enter(Some(self.clone()), None);
        f()
    }

    /// Records that command `action` ran, successfully and with no duration
    /// (the seed's `TrackCommand`). Only flag *names* from `args` are kept:
    /// `--model=gpt-4` becomes `--model`; values and positionals are dropped.
    pub fn track_command<I, S>(&self, action: impl Into<Cow<'static, str>>, args: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.record_command(action, args, Duration::ZERO, Outcome::Success);
    }

    /// Records a command with its duration and outcome; flag names only, as
    /// in [`Telemetry::track_command`].
    pub fn record_command<I, S>(
        &self,
        action: impl Into<Cow<'static, str>>,
        args: I,
        duration: Duration,
        outcome: Outcome,
    ) where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if self.recorder.is_none() {
            return;
        }
        self.emit_command(action.into(), args::flag_names(args), duration, outcome);
    }

    pub(crate) fn emit_command(
        &self,
        action: Cow<'static, str>,
        args: Vec<String>,
        duration: Duration,
        outcome: Outcome,
    ) {
        self.emit(Event::Command(CommandEvent {
            action: bounded_name(action),
            args,
            duration_ms: millis(duration),
            outcome: bounded_outcome(outcome),
        }));
    }

    /// Records a tool call with an explicit session id and agent (pass `""`
    /// for none). When a session of this client with that id is running
    /// (started and not yet ended, current or not), the call also counts
    /// toward its totals and carries its agent.
    pub fn record_tool_call(
        &self,
        tool: impl Into<Cow<'static, str>>,
        session_id: &str,
        agent: &str,
        duration: Duration,
        outcome: Outcome,
    ) {
        let Some(recorder) = &self.recorder else {
            return;
        };
        match recorder.sessions.find(session_id) {
            Some(session) => session.record_tool_call(tool.into(), duration, outcome),
            None => self.emit_tool(
                tool.into(),
                crate::event::shared_name(session_id),
                crate::event::shared_name(agent),
                duration,
                outcome,
            ),
        }
    }

    /// Sends a tool event. The session id and agent come already cut to
    /// size (see [`shared_name`](crate::event::shared_name)), so that a
    /// session's are shared, not copied, into each of its events.
    pub(crate) fn emit_tool(
        &self,
        tool: Cow<'static, str>,
        session_id: Arc<str>,
        agent: Arc<str>,
        duration: Duration,
        outcome: Outcome,
    ) {
        self.emit(Event::Tool(ToolEvent {
            tool_name: bounded_name(tool),
            session_id,
            agent_name: agent,
            duration_ms: millis(duration),
            outcome: bounded_outcome(outcome),
        }));
    }

    /// Records one model call's token usage and its cost (this call's, not a
    /// running total), in the current session of this client when there is
    /// one. A `NaN`, infinite or negative cost is recorded as `0`.
    pub fn record_token_usage(
        &self,
        model: impl Into<Cow<'static, str>>,
        input_tokens: u64,
        output_tokens: u64,
        cost: f64,
    ) {
        if self.recorder.is_none() {
            return;
        }
        let model = model.into();
        match self.current_session() {
            Some(session) => session.record_token_usage(model, input_tokens, output_tokens, cost),
            None => self.emit_token(
                model,
                crate::event::empty_name(),
                crate::event::empty_name(),
                input_tokens,
                output_tokens,
                cost,
            ),
        }
    }

    /// Sends a token event; the session id and agent as for
    /// [`Telemetry::emit_tool`].
    pub(crate) fn emit_token(
        &self,
        model: Cow<'static, str>,
        session_id: Arc<str>,
        agent: Arc<str>,
        input_tokens: u64,
        output_tokens: u64,
        cost: f64,
    ) {
        self.emit(Event::Token(TokenEvent {
            session_id,
            agent_name: agent,
            model_name: bounded_name(model),
            input_tokens,
            output_tokens,
            cost: sane_cost(cost),
        }));
    }

    /// Starts a session for `agent` and sends its start event. The returned
    /// guard sends the end event, with the session's totals, when ended or
    /// dropped.
    pub fn start_session(&self, agent: impl Into<Cow<'static, str>>) -> Session {
        Session::start(self, agent.into())
    }

    /// The running sessions of this client; `None` when disabled.
    pub(crate) fn live_sessions(&self) -> Option<&LiveSessions> {
        self.recorder.as_ref().map(|recorder| &recorder.sessions)
    }

    /// The innermost current session on this thread, when it belongs to
    /// this client (a session of another client is not this one's to count).
    pub(crate) fn current_session(&self) -> Option<Arc<SessionState>> {
        let mine = self.recorder.as_ref()?;
        context::current_session().filter(|session| {
            session
                .telemetry
                .recorder
                .as_ref()
                .is_some_and(|theirs| Arc::ptr_eq(mine, theirs))
        })
    }

    /// Builds the record, logs it in debug mode, and sends it inline.
    pub(crate) fn emit(&self, event: Event) {
        let Some(recorder) = &self.recorder else {
            return;
        };
        let record = Record::new(event, Arc::clone(&recorder.context));
        if let Some(debug) = &recorder.debug {
            debug.line(&record.to_json());
        }
        if let Some(reason) = recorder.hold {
            if let Some(debug) = &recorder.debug {
                debug.line(&format!("not sent: {reason}"));
            }
            return;
        }
        let result = recorder.sink.send(std::slice::from_ref(&record));
        if let Err(error) = result {
            recorder.log_send_error(&error);
        }
    }
}

const UNREACHABLE_EARLIER: &str = "not sent: the collector was unreachable earlier in this process";

impl Recorder {
    fn log_send_error(&self, error: &SendError) {
        let Some(debug) = &self.debug else {
            return;
        };
        match error {
            SendError::Transport(_) => {
                if !self.stop_logged.swap(true, Ordering::Relaxed) {
                    debug.line(&format!(
                        "not sent, and delivery stopped for the rest of this process: {error}"
                    ));
                } else {
                    debug.line(UNREACHABLE_EARLIER);
                }
            }
            SendError::Stopped => debug.line(UNREACHABLE_EARLIER),
            SendError::Rejected(_) => debug.line(&format!("not accepted: {error}")),
        }
    }
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("enabled", &self.is_enabled())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use crate::{Outcome, MAX_NAME_LEN};
    use std::time::Duration;

    #[test]
    fn a_huge_error_kind_is_cut_like_a_name() {
        let (telemetry, sink) = crate::memory_client("kind-test");
        let huge = "é".repeat(1 << 19);
        let failure = || Outcome::failure(huge.clone());
        telemetry.record_tool_call("t", "", "", Duration::ZERO, failure());
        telemetry.record_command("c", Vec::<String>::new(), Duration::ZERO, failure());
        for record in sink.events() {
            let json = record.to_json();
            assert!(json.len() < 2 * MAX_NAME_LEN + 1024, "{} bytes", json.len());
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            let kind = value["properties"]["error"].as_str().unwrap();
            assert_eq!(kind, &huge[..MAX_NAME_LEN]);
        }
    }
}
