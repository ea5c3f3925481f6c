//! The client handle, [`Telemetry`], the [`FlushGuard`] it hands out, and
//! the current client ([`current`], [`set_global`]).

use crate::client::context::{self, Client};
use crate::consent::controls::Controls;
use crate::consent::reason::OffReason;
use crate::consent::status::Status;
use crate::recorder::{Call, Off, Recorder, Within};
use crate::{Flushed, Outcome, Session, TelemetryBuilder};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

/// The telemetry client: a cheap `Clone` handle. With the default inline
/// delivery, every recording call sends its event and returns once the
/// collector answered or the attempt failed, so nothing is left in flight
/// when the program exits; with [`Delivery::Background`](crate::Delivery::Background)
/// it spools the record and returns, and the flush points send it; with
/// [`Delivery::Deferred`](crate::Delivery::Deferred) it appends the record to
/// the app's shared spool, which a flush point uploads when an upload is
/// due.
///
/// Build one with [`Telemetry::builder`] (or, in tests,
/// [`Telemetry::isolated`]); a disabled client ([`Telemetry::disabled`], or
/// any client the opt-out turned off) does nothing at all.
#[derive(Clone, Default)]
pub struct Telemetry {
    client: Client,
}

impl Telemetry {
    /// Starts configuring a client for the app `app` at version `version`.
    pub fn builder(app: impl Into<String>, version: impl Into<String>) -> TelemetryBuilder {
        TelemetryBuilder::new(app.into(), version.into())
    }

    /// Starts configuring a client for your own tests: no first-run notice,
    /// an empty environment (no `DO_NOT_TRACK`, `TELEMETRY_*`, `HOME`...),
    /// and no config dir, so nothing is read or written on disk and the
    /// anonymous id lives in memory. Give it a sink to record into:
    ///
    /// ```
    /// use telemetry_core::{MemorySink, Telemetry};
    ///
    /// let sink = MemorySink::new();
    /// let telemetry = Telemetry::isolated("my-cli", "1.0.0")
    ///     .sink(sink.clone())
    ///     .flags(["--verbose"])
    ///     .build();
    /// telemetry.track_command("run", ["--verbose", "some/path"]);
    ///
    /// let record = serde_json::to_value(&sink.records()[0]).unwrap();
    /// assert_eq!(record["properties"]["args"], serde_json::json!(["--verbose"]));
    /// ```
    ///
    /// Every builder setting still applies on top (`.env_vars(..)` to test
    /// an opt-out, `.config_dir(..)` to test the files).
    pub fn isolated(app: impl Into<String>, version: impl Into<String>) -> TelemetryBuilder {
        TelemetryBuilder::isolated(app.into(), version.into())
    }

    /// A client that records nothing.
    #[must_use]
    pub fn disabled() -> Telemetry {
        Telemetry::default()
    }

    /// A client for what the recorder decided.
    pub(crate) fn from_recorder(recorder: Result<Recorder, Box<Off>>) -> Telemetry {
        let client = match recorder {
            Ok(recorder) => Client::On(Arc::new(recorder)),
            Err(off) => Client::Off(Some(Arc::from(off))),
        };
        Telemetry { client }
    }

    pub(crate) fn into_client(self) -> Client {
        self.client
    }

    fn recorder(&self) -> Option<&Arc<Recorder>> {
        self.client.recorder()
    }

    /// `true` when this client records events: telemetry is on, or in
    /// log-only mode (`TELEMETRY_ENABLED=log`: each record is printed and
    /// never sent; [`Telemetry::status`] tells the two apart).
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        self.recorder().is_some()
    }

    /// Why this client records nothing; `None` when it is enabled.
    #[must_use]
    pub fn off_reason(&self) -> Option<&OffReason> {
        static DISABLED: OffReason = OffReason::DisabledInCode;
        match &self.client {
            Client::On(_) => None,
            Client::Off(Some(off)) => Some(&off.reason),
            Client::Off(None) => Some(&DISABLED),
        }
    }

    /// What decided on, off or log-only for this client, and where its
    /// files are: the state `telemetry enable | disable | reset-id` act
    /// on. Kept by every client, off ones included (an off client still
    /// writes no file, opens no socket and starts no thread).
    #[must_use]
    pub fn controls(&self) -> &Controls {
        static DISABLED: Controls = Controls::disabled_in_code();
        match &self.client {
            Client::On(recorder) => recorder.controls(),
            Client::Off(Some(off)) => &off.controls,
            Client::Off(None) => &DISABLED,
        }
    }

    /// `telemetry status` for this client: on, off or log-only, which
    /// setting decided and what to change. Shorthand for
    /// `self.controls().status()`.
    #[must_use]
    pub fn status(&self) -> Status {
        self.controls().status()
    }

    /// The config dir (the anonymous id, the notice marker, the remembered
    /// choice); `None` when there is none.
    #[must_use]
    pub fn config_dir(&self) -> Option<&std::path::Path> {
        self.controls().config_dir()
    }

    /// Runs `f` with this client current on this thread (see
    /// [`current`]).
    pub fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = context::enter(Some(self.client.clone()), None);
        f()
    }

    /// Records that command `action` ran, successfully and with no duration
    /// (cagent's `TrackCommand`). Only the names of *declared* flags
    /// ([`TelemetryBuilder::flags`]) are kept from `args`: `--model=gpt-4`
    /// becomes `--model` when `--model` is declared; values, positionals,
    /// undeclared dash-words and every word after `--` are dropped.
    pub fn track_command<I, S>(&self, action: impl Into<Cow<'static, str>>, args: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.record_command(action, args, Duration::ZERO, Outcome::Success);
    }

    /// Records a command with its duration and outcome; declared flag names
    /// only, as in [`Telemetry::track_command`].
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
        if let Some(recorder) = self.recorder() {
            let call = Call::Command {
                action: action.into(),
                args: recorder.declared_flags(args),
                duration,
                outcome,
            };
            recorder.record(call, Within::Session(None));
        }
    }

    /// Records a tool call with an explicit session id and agent (pass `""`
    /// for none): the event carries exactly the id and agent passed, whatever
    /// session is current. When a session of this client with that id is
    /// running (started and not yet ended, current or not), the call also
    /// counts toward its totals; the agent passed is still the one recorded.
    /// To record in the current session instead, use
    /// [`Session::record_tool_call`] or `#[tracked_tool]`.
    pub fn record_tool_call(
        &self,
        tool: impl Into<Cow<'static, str>>,
        session_id: &str,
        agent: &str,
        duration: Duration,
        outcome: Outcome,
    ) {
        if let Some(recorder) = self.recorder() {
            let call = Call::Tool {
                name: tool.into(),
                duration,
                outcome,
            };
            recorder.record(
                call,
                Within::Named {
                    id: session_id,
                    agent,
                },
            );
        }
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
        if let Some(recorder) = self.recorder() {
            let call = Call::Token {
                model: model.into(),
                input: input_tokens,
                output: output_tokens,
                cost,
            };
            recorder.record(call, Within::Current);
        }
    }

    /// Waits until every record made before this call is delivered, or
    /// `timeout` passes (background delivery; what is not delivered stays
    /// in the spool for a later run). An inline client sent each record
    /// when it was recorded, and a disabled one has none: they return
    /// without waiting. First, in every mode, a flush sends the
    /// `tool_summary` records of sessions still open
    /// ([`tool_rollup`](crate::TelemetryBuilder::tool_rollup)) and a
    /// `client_report` when records were dropped since the last one.
    // Called for its effect (a flush at exit); the result is for callers
    // that want to know, so not `#[must_use]`.
    #[allow(clippy::must_use_candidate)]
    pub fn flush(&self, timeout: Duration) -> Flushed {
        self.recorder()
            .map_or(Flushed::Delivered, |recorder| recorder.flush(Some(timeout)))
    }

    /// A guard that flushes within the exit budget when dropped, and tidies
    /// the spool: hold it in `main` (see [`FlushGuard`]).
    pub fn flush_guard(&self) -> FlushGuard {
        FlushGuard::new(self.recorder().cloned())
    }

    /// Starts a session for `agent` and sends its start event. The returned
    /// guard sends the end event, with the session's totals, when ended or
    /// dropped.
    pub fn start_session(&self, agent: impl Into<Cow<'static, str>>) -> Session {
        Session::start(self.recorder(), agent.into())
    }
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("enabled", &self.is_enabled())
            .finish_non_exhaustive()
    }
}

/// The innermost scoped client on this thread, else the global one, else
/// `None`. A scoped disabled client hides the global one.
#[must_use]
pub fn current() -> Option<Telemetry> {
    context::current().map(|client| Telemetry { client })
}

/// Makes `telemetry` the client that [`current`] returns wherever no scope
/// says otherwise, replacing any earlier global client.
pub fn set_global(telemetry: Telemetry) {
    context::set_global(telemetry.client);
}

/// Flushes background delivery when dropped, within the client's exit
/// budget, then tidies the spool. Get it from
/// [`Telemetry::flush_guard`](crate::Telemetry::flush_guard) and hold it in
/// `main`, so that the process flushes on its way out:
///
/// ```
/// use telemetry_core::{Delivery, MemorySink, Telemetry};
///
/// let telemetry = Telemetry::isolated("my-cli", "1.0.0")
///     .sink(MemorySink::new())
///     .delivery(Delivery::Background)
///     .build();
/// let _flush = telemetry.flush_guard();
/// telemetry_core::set_global(telemetry);
/// // ... the program ...
/// ```
///
/// For an inline or disabled client it does nothing.
#[must_use = "the flush happens when the guard is dropped; hold it in main"]
pub struct FlushGuard {
    recorder: Option<Arc<Recorder>>,
}

impl FlushGuard {
    pub(crate) fn new(recorder: Option<Arc<Recorder>>) -> FlushGuard {
        FlushGuard { recorder }
    }

    /// Flushes now, within the exit budget, without tidying the spool.
    // Called for its effect (it waits for delivery); the outcome is for
    // callers that care, and ignoring it is fine, so no `#[must_use]`.
    #[allow(clippy::must_use_candidate)]
    pub fn flush(&self) -> Flushed {
        self.recorder
            .as_ref()
            .map_or(Flushed::Delivered, |recorder| recorder.flush(None))
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        if let Some(recorder) = &self.recorder {
            recorder.finish();
        }
    }
}

impl std::fmt::Debug for FlushGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlushGuard")
            .field("enabled", &self.recorder.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::{OffReason, Outcome, Telemetry, MAX_NAME_LEN};
    use std::time::Duration;

    #[test]
    fn a_huge_error_kind_is_cut_like_a_name() {
        let (telemetry, sink) = crate::memory_client("kind-test");
        let huge = "é".repeat(1 << 19);
        let failure = || Outcome::failure(huge.clone());
        telemetry.record_tool_call("t", "", "", Duration::ZERO, failure());
        telemetry.record_command("c", Vec::<String>::new(), Duration::ZERO, failure());
        for record in sink.records() {
            let json = record.to_json();
            assert!(json.len() < 2 * MAX_NAME_LEN + 1024, "{} bytes", json.len());
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            let kind = value["properties"]["error"].as_str().unwrap();
            assert_eq!(kind, &huge[..MAX_NAME_LEN]);
        }
    }

    #[test]
    fn a_named_session_keeps_the_agent_passed() {
        let (telemetry, sink) = crate::memory_client("named-test");
        let session = telemetry.start_session("root");
        let id = session.id().to_owned();
        telemetry.record_tool_call("t", &id, "helper", Duration::ZERO, Outcome::Success);
        session.end();
        let records = sink.records();
        let tool = serde_json::to_value(&records[1]).unwrap();
        assert_eq!(tool["properties"]["agent_name"], "helper");
        assert_eq!(tool["properties"]["session_id"], id.as_str());
        let end = serde_json::to_value(&records[2]).unwrap();
        assert_eq!(end["properties"]["tool_calls"], 1);
    }

    #[test]
    fn off_clients_say_why() {
        assert_eq!(
            Telemetry::disabled().off_reason(),
            Some(&OffReason::DisabledInCode)
        );
        let off = Telemetry::isolated("why-test", "1").build();
        assert_eq!(off.off_reason(), Some(&OffReason::NoDestination));
        let on = crate::memory_client("why-test").0;
        assert_eq!(on.off_reason(), None);
    }
}
