//! The recorder: what an enabled client is. `Recorder::new` (in
//! `start.rs`) does all the start-up work (the on/off decision of
//! [`Controls`], app name, sink, tags, identity, first-run notice);
//! [`Recorder::record`] is the one path
//! every tool call, token usage and command takes, and
//! [`Recorder::deliver`] the one place a record leaves for the sink (or,
//! in log-only mode, for stderr), within the level: at `errors` only
//! failed commands and tool calls, at `local` nothing is sent.

pub(crate) mod cap;
pub(crate) mod debug_log;
pub(crate) mod error_kind_outcome;
#[cfg(test)]
mod flush_point_tests;
pub(crate) mod rollup;
pub(crate) mod sampling;
pub(crate) mod session_state;
mod start;
pub(crate) mod tracked;

pub(crate) use start::Off;

use crate::consent::controls::Controls;
use crate::consent::level::Level;
use crate::consent::reason::HoldReason;
use crate::delivery::background::{is_refused_for_good, Background, Flushed};
use crate::delivery::deferred::Deferred;
use crate::delivery::dropped::{DropCounts, DropReason};
use crate::record::declared_flags::DeclaredFlags;
use crate::record::event::{
    ClientReportEvent, CommandEvent, Event, SessionEndEvent, SessionStartEvent, TokenEvent,
    ToolEvent,
};
use crate::record::known_names::known_in;
use crate::record::limits::{
    bounded_name, bounded_outcome, empty_name, millis, sane_cost, shared_name,
    truncate_at_char_boundary, MAX_NAME_LEN,
};
use crate::record::{Record, RecordContext};
use crate::recorder::cap::{Admit, Cap};
use crate::recorder::rollup::Fold;
use crate::sink::history::History;
use crate::sink::{FailurePolicy, SendError, Sink};
use crate::Outcome;
use debug_log::DebugLog;
use session_state::{LiveSessions, Owner, SessionState};
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Set once an enabled client exists; until then every tracked call costs
/// this one relaxed load and nothing else.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// `true` once an enabled client has been built in this process.
#[inline]
pub(crate) fn any_active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// What an enabled client shares between its clones.
pub(crate) struct Recorder {
    /// How much is sent (or, log-only, printed): at `errors`, failures
    /// only; at `local`, nothing leaves the machine.
    level: Level,
    /// Tells this client's sessions from another client's.
    owner: Owner,
    context: Arc<RecordContext>,
    /// Where records go: the sink, or the log-only printer.
    output: Output,
    failure_policy: FailurePolicy,
    /// Why nothing may be sent this run (the first-run notice was shown).
    hold: Option<HoldReason>,
    debug: Option<Arc<DebugLog>>,
    /// Set once a failure that stopped delivery has been logged.
    stop_logged: AtomicBool,
    /// Sessions started and not yet ended, found by id.
    sessions: LiveSessions,
    /// The flag names a command's `args` may hold.
    flags: DeclaredFlags,
    /// The declared flag names of this process's command line, read once.
    process_flags: OnceLock<Vec<String>>,
    /// The model names sent as they are (`None`: all).
    known_models: Option<Vec<String>>,
    /// What decided, and where the files are (`telemetry status`).
    controls: Controls,
    /// Background delivery; `None`: inline (or deferred).
    background: Option<Background>,
    /// The local history, where the `local` level keeps its records (the
    /// sink keeps those it sent); `None` when not kept.
    history: Option<History>,
    /// Deferred delivery; `None`: inline (or background).
    deferred: Option<Deferred>,
    /// How long a flush point waits.
    exit_budget: Duration,
    /// `#[tracked_command]` calls in progress: the last one to end flushes.
    commands_open: AtomicUsize,
    /// The last flush point ran out of the exit budget: the next one does
    /// not wait again (a blackhole costs one exit budget, not one per
    /// flush point), until a flush completes.
    exit_budget_spent: AtomicBool,
    /// Tool calls of one name sent per session before the rest fold into
    /// summaries; `None`: roll-ups off.
    rollup_after: Option<u32>,
    /// The per-process cap on records sent.
    cap: Cap,
    /// Records dropped, by reason, not yet reported.
    drops: Arc<DropCounts>,
    /// Background delivery's largest batch in bytes: a larger record is
    /// dropped.
    max_batch_bytes: usize,
}

/// Where a record goes once made.
enum Output {
    /// Sent to the sink (unless held).
    Send(Arc<dyn Sink>),
    /// Log-only mode: printed, never sent. `None` when the debug log
    /// already prints every record.
    Print(Option<DebugLog>),
}

/// A call to record; the recorder adds the session, the limits and the
/// common fields.
pub(crate) enum Call {
    /// A command ran; `args` are declared flag names already
    /// ([`Recorder::declared_flags`]).
    Command {
        action: Cow<'static, str>,
        args: Vec<String>,
        duration: Duration,
        outcome: Outcome,
    },
    /// A tool was called.
    Tool {
        name: Cow<'static, str>,
        duration: Duration,
        outcome: Outcome,
    },
    /// A model call used tokens.
    Token {
        model: Cow<'static, str>,
        input: u64,
        output: u64,
        cost: f64,
    },
}

/// Which session a tool call or token usage belongs to. A command belongs
/// to none, whatever this says.
#[derive(Clone, Copy)]
pub(crate) enum Within<'a> {
    /// The innermost session current on this thread, when it is this
    /// client's; else none.
    Current,
    /// This session, or none: already decided (a session's own methods, or
    /// a tracked call that looked when it started).
    Session(Option<&'a Arc<SessionState>>),
    /// The id and agent the caller named: recorded as given. When a live
    /// session of this client has that id, the call also counts toward its
    /// totals.
    Named { id: &'a str, agent: &'a str },
}

/// The session a call was attributed to: what its event carries, and the
/// live session whose totals it counts toward.
struct Attribution {
    counted: Option<Arc<SessionState>>,
    session_id: Arc<str>,
    agent: Arc<str>,
}

/// A flush point announced to background delivery
/// ([`Recorder::command_ending`]). Dropped, it takes the announcement back
/// (when another command opened meanwhile, so that no flush came, or when
/// recording panicked): what is queued then goes with a sender thread.
pub(crate) struct FlushAnnounced<'a>(Option<&'a Background>);

impl Drop for FlushAnnounced<'_> {
    fn drop(&mut self) {
        if let Some(background) = self.0 {
            background.no_flush_follows();
        }
    }
}

impl Recorder {
    /// The declared flag names in `args`: what a command's `args` hold.
    pub(crate) fn declared_flags<I, S>(&self, args: I) -> Vec<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.flags.keep(args)
    }

    /// The declared flag names of this process's command line: what a
    /// `#[tracked_command]` records as its `args`.
    pub(crate) fn process_flags(&self) -> Vec<String> {
        self.process_flags
            .get_or_init(|| self.flags.keep(crate::record::args::process_args()))
            .clone()
    }

    /// A model name as sent: itself when no known set was given or it is
    /// in the set, else `other`.
    fn model_name(&self, model: Cow<'static, str>) -> Cow<'static, str> {
        match &self.known_models {
            Some(known) if known_in(&model, known).is_none() => Cow::Borrowed(crate::OTHER_NAME),
            _ => bounded_name(model),
        }
    }

    /// What decided, and where the files are.
    pub(crate) fn controls(&self) -> &Controls {
        &self.controls
    }

    /// Which session a call belongs to: the one decision, for every caller
    /// (the `Telemetry` methods, a `Session`'s own, the macros).
    fn attribute(&self, within: Within<'_>) -> Attribution {
        let counted = match within {
            Within::Current => self.current_session(),
            Within::Session(session) => session.cloned(),
            Within::Named { id, agent } => {
                let counted = self.sessions.find(id);
                // The event says what the caller named; the live session's
                // own values are shared when they are the same text.
                let agent = truncate_at_char_boundary(agent, MAX_NAME_LEN);
                let agent = match &counted {
                    Some(session) if *session.agent == *agent => Arc::clone(&session.agent),
                    _ => shared_name(agent),
                };
                let session_id = counted
                    .as_ref()
                    .map_or_else(|| shared_name(id), |session| Arc::clone(&session.id));
                return Attribution {
                    counted,
                    session_id,
                    agent,
                };
            }
        };
        match counted {
            Some(session) => Attribution {
                session_id: Arc::clone(&session.id),
                agent: Arc::clone(&session.agent),
                counted: Some(session),
            },
            None => Attribution {
                counted: None,
                session_id: empty_name(),
                agent: empty_name(),
            },
        }
    }

    /// The innermost session current on this thread, when it is this
    /// client's (a session of another client is not this one's to count).
    pub(crate) fn current_session(&self) -> Option<Arc<SessionState>> {
        session_state::current().filter(|session| session.owner == self.owner)
    }

    /// Records one call: attributes it to its session, counts it there,
    /// builds its event within the limits, and delivers it. The one
    /// recording path.
    pub(crate) fn record(&self, call: Call, within: Within<'_>) {
        let event = match call {
            Call::Command {
                action,
                args,
                duration,
                outcome,
            } => Event::Command(CommandEvent {
                action: bounded_name(action),
                args,
                duration_ms: millis(duration),
                outcome: bounded_outcome(outcome),
            }),
            Call::Tool {
                name,
                duration,
                outcome,
            } => {
                let within = self.attribute(within);
                let name = bounded_name(name);
                if let Some(session) = &within.counted {
                    session.count_tool_call(outcome.error_kind());
                    if let Some(after) = self.rollup_after {
                        let fold =
                            session
                                .rollup
                                .fold(&name, after, duration, outcome.error_kind());
                        if fold == Fold::Folded {
                            return;
                        }
                    }
                }
                Event::Tool(ToolEvent {
                    tool_name: name,
                    session_id: within.session_id,
                    agent_name: within.agent,
                    duration_ms: millis(duration),
                    outcome: bounded_outcome(outcome),
                })
            }
            Call::Token {
                model,
                input,
                output,
                cost,
            } => {
                let within = self.attribute(within);
                if let Some(session) = &within.counted {
                    session.count_tokens(input, output, cost);
                }
                Event::Token(TokenEvent {
                    session_id: within.session_id,
                    agent_name: within.agent,
                    model_name: self.model_name(model),
                    input_tokens: input,
                    output_tokens: output,
                    cost: sane_cost(cost),
                })
            }
        };
        self.deliver(event);
    }

    /// Starts a session of this client for `agent`, registers it as live,
    /// and delivers its start event.
    pub(crate) fn start_session(&self, agent: Cow<'static, str>) -> Arc<SessionState> {
        let agent: Arc<str> = Arc::from(&*bounded_name(agent));
        let session = Arc::new(SessionState::new(self.owner, agent));
        self.deliver(Event::SessionStart(SessionStartEvent {
            session_id: Arc::clone(&session.id),
            agent_name: Arc::clone(&session.agent),
        }));
        self.sessions.register(&session);
        session
    }

    /// Ends a session of this client and delivers its end event with its
    /// totals; nothing when it had ended already.
    pub(crate) fn end_session(&self, session: &SessionState) {
        let Some(totals) = session.finish() else {
            return;
        };
        self.sessions.unregister(session);
        self.deliver_summaries(session);
        self.deliver(Event::SessionEnd(SessionEndEvent {
            session_id: Arc::clone(&session.id),
            agent_name: Arc::clone(&session.agent),
            duration_ms: totals.duration_ms,
            tool_calls: totals.tool_calls,
            input_tokens: totals.input_tokens,
            output_tokens: totals.output_tokens,
            cost: totals.cost,
            error_count: totals.error_count,
            errors: totals.errors,
        }));
    }

    /// The one place an event becomes a record and leaves: logged in debug
    /// mode, then held (first run: nothing sent, nothing spooled), handed
    /// to background delivery (spooled and queued), or sent inline to the
    /// sink. (The per-process time budget is the HTTP sink's: every send
    /// of either mode passes it.)
    fn deliver(&self, event: Event) {
        if !self.level.admits(&event) {
            if let Some(debug) = &self.debug {
                debug.line(&format!(
                    "not sent: the level is {} (only failed commands and tool calls are sent); a {} record",
                    self.level,
                    event.kind()
                ));
            }
            return;
        }
        if !self.within_cap() {
            return;
        }
        let record = Record::new(event, Arc::clone(&self.context));
        if let Some(debug) = &self.debug {
            let as_sent = match &self.output {
                Output::Send(sink) => sink.as_sent(&record),
                Output::Print(_) => record.to_json(),
            };
            debug.line(&as_sent);
        }
        let sink = match &self.output {
            Output::Send(sink) => sink,
            Output::Print(own) => {
                if let Some(log) = own {
                    log.line(&record.to_json());
                }
                return;
            }
        };
        if let Some(reason) = self.hold {
            if let Some(debug) = &self.debug {
                debug.line(&format!("not sent: {reason}"));
            }
            return;
        }
        if !self.level.sends() {
            // `local`: kept on this machine only, never sent.
            if let Some(debug) = &self.debug {
                debug.line("not sent: the level is local (records stay on this machine)");
            }
            if let Some(history) = &self.history {
                let note = |line: &str| {
                    if let Some(debug) = &self.debug {
                        debug.line(line);
                    }
                };
                history.keep_local(&[record.to_json()], &note);
            }
            return;
        }
        if let Some(background) = &self.background {
            let line = record.to_json();
            if line.len() > self.max_batch_bytes {
                self.drops.add(DropReason::BatchTooLarge, 1);
                if let Some(debug) = &self.debug {
                    debug.line(&format!(
                        "not sent: the record ({} bytes) is larger than a batch may be ({} bytes)",
                        line.len(),
                        self.max_batch_bytes
                    ));
                }
                return;
            }
            background.record_line(record.event_id(), line);
            // Queued right after: in the same batch.
            if let Some(report) = self.client_report() {
                background.record(&report);
            }
            return;
        }
        if let Some(deferred) = &self.deferred {
            deferred.record(&record.to_json());
            if let Some(report) = self.client_report() {
                deferred.record(&report.to_json());
            }
            return;
        }
        match self.client_report() {
            Some(report) => self.send_inline(sink, &[record, report]),
            None => self.send_inline(sink, std::slice::from_ref(&record)),
        }
    }

    /// Sends a batch inline. Records the collector refused for good are
    /// counted as dropped; a `client_report` that could not be sent puts
    /// its counts back for the next batch.
    fn send_inline(&self, sink: &Arc<dyn Sink>, batch: &[Record]) {
        let Err(error) = sink.send(batch) else {
            return;
        };
        self.log_send_error(&error);
        let report = batch.iter().find_map(|record| match record.event() {
            Event::ClientReport(report) => Some(report),
            _ => None,
        });
        match &error {
            SendError::Rejected(status) if is_refused_for_good(*status) => {
                self.drops.add(DropReason::Rejected, batch.len() as u64);
            }
            SendError::PartlyRejected { rejected } => {
                self.drops.add(DropReason::Rejected, *rejected);
            }
            _ => {
                // Asked to wait (a retryable status, or a back-off in
                // force): inline records cannot wait, so they are dropped.
                if matches!(error, SendError::Rejected(_) | SendError::Backoff { .. }) {
                    let records = batch
                        .iter()
                        .filter(|record| !matches!(record.event(), Event::ClientReport(_)))
                        .count();
                    self.drops.add(DropReason::Backoff, records as u64);
                }
                if let Some(report) = report {
                    self.drops.restore(report.dropped.clone());
                }
            }
        }
    }

    /// Whether one more record may be sent: counts it against the cap, or
    /// counts it dropped. Log-only mode and a held run send nothing, so
    /// they are not capped.
    fn within_cap(&self) -> bool {
        if matches!(self.output, Output::Print(_)) || self.hold.is_some() {
            return true;
        }
        match self.cap.admit() {
            Admit::Yes => true,
            refused => {
                self.drops.add(DropReason::Cap, 1);
                if let (Admit::FirstRefused, Some(debug)) = (refused, &self.debug) {
                    debug.line(&format!(
                        "not sent: this process reached its cap of {} records; later records are counted in a client_report, not sent",
                        self.cap.max()
                    ));
                }
                false
            }
        }
    }

    /// A `client_report` record of what was dropped since the last one
    /// (logged in debug mode); `None` when nothing was. Never capped.
    fn client_report(&self) -> Option<Record> {
        if self.drops.is_empty() {
            return None;
        }
        let dropped = self.drops.take();
        if dropped.is_empty() {
            return None;
        }
        let report = Record::new(
            Event::ClientReport(ClientReportEvent { dropped }),
            Arc::clone(&self.context),
        );
        if let (Some(debug), Output::Send(sink)) = (&self.debug, &self.output) {
            debug.line(&sink.as_sent(&report));
        }
        Some(report)
    }

    /// Delivers the `tool_summary` records of the calls of `session` folded
    /// and not yet sent.
    fn deliver_summaries(&self, session: &SessionState) {
        if self.rollup_after.is_some() {
            for summary in session.rollup.take_summaries(&session.id, &session.agent) {
                self.deliver(summary);
            }
        }
    }

    /// What a flush point sends before it waits: the summaries of the
    /// sessions still open, and a `client_report` when records were
    /// dropped since the last batch.
    fn send_pending(&self) {
        if self.rollup_after.is_some() {
            for session in self.sessions.live() {
                if session.rollup.has_pending() {
                    self.deliver_summaries(&session);
                }
            }
        }
        let Output::Send(sink) = &self.output else {
            return;
        };
        if self.hold.is_some() {
            return;
        }
        if let Some(report) = self.client_report() {
            match (&self.background, &self.deferred) {
                (Some(background), _) => background.record(&report),
                (None, Some(deferred)) => deferred.record(&report.to_json()),
                (None, None) => self.send_inline(sink, std::slice::from_ref(&report)),
            }
        }
    }

    /// Waits until what was recorded before is delivered (background mode)
    /// or `timeout` (`None`: the exit budget) passes; at once when inline.
    pub(crate) fn flush(&self, timeout: Option<Duration>) -> Flushed {
        self.send_pending();
        let timeout = timeout.unwrap_or(self.exit_budget);
        match (&self.background, &self.deferred) {
            (Some(background), _) => background.flush(timeout),
            (None, Some(deferred)) => deferred.upload(timeout),
            (None, None) => Flushed::Delivered,
        }
    }

    /// A flush within the exit budget that then tidies the spool file (the
    /// flush guard's drop, the end of the outermost command). After a flush
    /// point that ran out of the budget, the next one only tidies, unless
    /// a flush completed in between.
    pub(crate) fn finish(&self) -> Flushed {
        self.send_pending();
        if self.background.is_none() && self.deferred.is_none() {
            return Flushed::Delivered;
        }
        let budget = if self.exit_budget_spent.load(Ordering::Relaxed) {
            Duration::ZERO
        } else {
            self.exit_budget
        };
        let flushed = match (&self.background, &self.deferred) {
            (Some(background), _) => background.finish(budget),
            (None, Some(deferred)) => deferred.upload(budget),
            (None, None) => Flushed::Delivered,
        };
        if let (Flushed::TimedOut { pending }, Some(debug)) = (&flushed, &self.debug) {
            if self.controls.verdict().ephemeral {
                // An anonymous CI run spools nothing: what is left is lost.
                debug.line(&format!(
                    "in CI nothing is spooled: {pending} record(s) not sent within the exit budget are dropped"
                ));
            }
        }
        self.exit_budget_spent.store(
            matches!(flushed, Flushed::TimedOut { .. }),
            Ordering::Relaxed,
        );
        flushed
    }

    /// A `#[tracked_command]` call began.
    pub(crate) fn command_began(&self) {
        self.commands_open.fetch_add(1, Ordering::Relaxed);
    }

    /// A `#[tracked_command]` call ends, and its record comes next: for
    /// the last one open, a flush point follows at once, which sends what
    /// background delivery holds (no sender thread for a short run). Hold
    /// the guard until [`command_ended`](Recorder::command_ended) is done.
    pub(crate) fn command_ending(&self) -> FlushAnnounced<'_> {
        let background = self
            .background
            .as_ref()
            .filter(|_| self.commands_open.load(Ordering::Acquire) == 1);
        if let Some(background) = background {
            background.flush_follows();
        }
        FlushAnnounced(background)
    }

    /// A `#[tracked_command]` call ended and its record was made: the last
    /// one open is a flush point.
    pub(crate) fn command_ended(&self) {
        if self.commands_open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.finish();
        }
    }

    /// Says in the debug log why a record was not delivered, and, when the
    /// sink's policy stops delivery after a failure, says so once.
    fn log_send_error(&self, error: &SendError) {
        const UNREACHABLE_EARLIER: &str =
            "not sent: the collector was unreachable earlier in this process";
        let Some(debug) = &self.debug else {
            return;
        };
        let stops = self.failure_policy == FailurePolicy::StopAfterTransportFailure;
        match error {
            SendError::BudgetSpent(_) => {
                if self.stop_logged.swap(true, Ordering::Relaxed) {
                    debug.line("not sent: the time budget was spent earlier in this process");
                } else {
                    debug.line(&format!(
                        "not sent, and delivery stopped for the rest of this process: {error}"
                    ));
                }
            }
            SendError::Transport(_) if stops => {
                if self.stop_logged.swap(true, Ordering::Relaxed) {
                    debug.line(UNREACHABLE_EARLIER);
                } else {
                    debug.line(&format!(
                        "not sent, and delivery stopped for the rest of this process: {error}"
                    ));
                }
            }
            SendError::Stopped => debug.line(UNREACHABLE_EARLIER),
            SendError::Backoff { .. } => debug.line(&format!("not sent: {error}")),
            SendError::Rejected(_) | SendError::PartlyRejected { .. } => {
                debug.line(&format!("not accepted: {error}"));
            }
            SendError::Transport(_) => debug.line(&format!("not sent: {error}")),
        }
    }
}
