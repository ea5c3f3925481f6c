//! The recorder: what an enabled client is. [`Recorder::new`] does all the
//! start-up work (the on/off decision of [`Controls`], app name, sink,
//! tags, identity, first-run notice); [`Recorder::record`] is the one path
//! every tool call, token usage and command takes, and
//! [`Recorder::deliver`] the one place a record leaves for the sink (or,
//! in log-only mode, for stderr).

pub(crate) mod debug_log;
pub(crate) mod error_kind_outcome;
pub(crate) mod session_state;
pub(crate) mod tracked;

use crate::consent::controls::Controls;
use crate::consent::notice;
use crate::consent::precedence::Mode;
use crate::consent::reason::{HoldReason, OffReason};
use crate::delivery::background::{Background, Flushed, Limits, Note, NoteFn, SendFn};
use crate::delivery::backoff::{self, Backoff};
use crate::delivery::dropped::{DropCounts, DropReason};
use crate::delivery::spool;
use crate::delivery::Delivery;
use crate::files::identity::{self, CheckedConfigDir, NoConfigDir, NoticeMarker};
use crate::record::declared_flags::DeclaredFlags;
use crate::record::event::{
    CommandEvent, Event, SessionEndEvent, SessionStartEvent, TokenEvent, ToolEvent,
};
use crate::record::limits::{
    bounded_name, bounded_outcome, empty_name, millis, sane_cost, shared_name,
    truncate_at_char_boundary, MAX_NAME_LEN, MAX_VERSION_LEN,
};
use crate::record::{CommonFields, Record, RecordContext};
use crate::recorder::debug_log::{DebugLog, DebugTarget};
use crate::settings::{check_app_name, ConfigDir, Settings};
use crate::sink::{FailurePolicy, SendError, Sink};
use crate::Outcome;
use session_state::{LiveSessions, Owner, SessionState};
use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Once, OnceLock};
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
    /// Background delivery; `None`: inline.
    background: Option<Background>,
    /// How long a flush point waits.
    exit_budget: Duration,
    /// `#[tracked_command]` calls in progress: the last one to end flushes.
    commands_open: AtomicUsize,
    /// The last flush point ran out of the exit budget: the next one does
    /// not wait again (a blackhole costs one exit budget, not one per
    /// flush point), until a flush completes.
    exit_budget_spent: AtomicBool,
    /// Records dropped before they could be sent, by reason.
    drops: Arc<DropCounts>,
    /// Background delivery's largest batch in bytes: a larger record is
    /// dropped.
    max_batch_bytes: usize,
}

/// Why a built client is off, and its controls (for its status).
pub(crate) struct Off {
    pub(crate) reason: OffReason,
    pub(crate) controls: Controls,
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

impl Recorder {
    /// Decides on, off or log-only ([`Controls`]) and, unless off, prepares
    /// everything to record: checks the app name, chooses the sink (none in
    /// log-only mode), reads or creates the anonymous id, and shows the
    /// first-run notice when due (never in log-only mode, which sends
    /// nothing). When off, says why in the debug log (debug mode only) and
    /// hands back the controls, so that an off client still has a status.
    pub(crate) fn new(mut settings: Settings) -> Result<Recorder, Off> {
        let debug = settings.debug_on().then(|| {
            Arc::new(DebugLog::open(
                settings.debug_target.take().unwrap_or(DebugTarget::Stderr),
            ))
        });
        let mut controls = Controls::resolve(&settings);
        if let (Some(debug), Some(note)) = (&debug, controls.choice_note()) {
            debug.line(&note.to_string());
        }
        match Recorder::prepare(&mut settings, &controls, debug.as_deref()) {
            Ok(parts) => {
                ACTIVE.store(true, Ordering::Relaxed);
                let drops = Arc::new(DropCounts::default());
                let background = background(&settings, &parts, debug.as_ref(), &drops);
                let failure_policy = match &parts.output {
                    Output::Send(sink) => sink.failure_policy(),
                    Output::Print(_) => FailurePolicy::KeepGoing,
                };
                Ok(Recorder {
                    owner: Owner::unique(),
                    failure_policy,
                    context: Arc::new(parts.context),
                    output: parts.output,
                    hold: parts.hold,
                    debug,
                    stop_logged: AtomicBool::new(false),
                    sessions: LiveSessions::default(),
                    flags: parts.flags,
                    known_models: settings.known_models.take(),
                    process_flags: OnceLock::new(),
                    controls,
                    background,
                    exit_budget: settings.exit_budget,
                    commands_open: AtomicUsize::new(0),
                    exit_budget_spent: AtomicBool::new(false),
                    drops,
                    max_batch_bytes: settings.batch_limits.max_bytes,
                })
            }
            Err(reason) => {
                if let Some(debug) = &debug {
                    debug.line(&reason.to_string());
                }
                if controls.off_reason().is_none() {
                    controls.turned_off_by_setting();
                }
                Err(Off { reason, controls })
            }
        }
    }

    fn prepare(
        settings: &mut Settings,
        controls: &Controls,
        debug: Option<&DebugLog>,
    ) -> Result<Prepared, OffReason> {
        if let Some(reason) = controls.off_reason() {
            if let OffReason::EnabledUnrecognised | OffReason::AppEnabledUnrecognised { .. } =
                &reason
            {
                warn_unrecognised_enabled(settings, &reason);
            }
            // Opting out wins over records spooled by earlier runs.
            if reason.is_opt_out() {
                delete_spool(settings, controls.config_dir(), debug);
            }
            return Err(reason);
        }
        check_app_name(&settings.app)?;
        let log = |line: &str| {
            if let Some(debug) = debug {
                debug.line(line);
            }
        };
        let log_only = controls.decision().mode == Mode::Log;
        let mut backoff = None;
        let output = if log_only {
            // The debug log prints every record already; else stderr (or
            // the debug file or writer given with `debug(false)`).
            let own = debug.is_none().then(|| {
                DebugLog::open(settings.debug_target.take().unwrap_or(DebugTarget::Stderr))
            });
            Output::Print(own)
        } else {
            let (sink, its_backoff) = choose_sink(settings, &log)?;
            backoff = its_backoff;
            Output::Send(sink)
        };
        let env = &settings.env;
        let (tags, note) = env.tags();
        if let Some(note) = note {
            log(note);
        }
        // The path the controls found (`Settings::config_dir`, else the
        // platform's default), checked before any file in it is used.
        let path = controls.config_dir();
        let config_dir = if matches!(settings.config_dir, ConfigDir::InMemory) {
            // Asked for: no file at all, and an in-memory id is no news.
            None
        } else {
            match identity::open_config_dir(path, env.home().as_deref(), env.sudo_uid_set()) {
                Ok(dir) => Some(dir),
                Err(NoConfigDir::Refused(refused)) => {
                    return Err(OffReason::ConfigDirRefused(refused))
                }
                // The one line about it: the id lasts for this process.
                Err(no_dir) => {
                    log(&no_dir.to_string());
                    None
                }
            }
        };
        // The back-off of earlier processes for this endpoint, and where
        // this one's is written.
        if let (Some(backoff), Some(dir)) = (&backoff, &config_dir) {
            backoff.attach(dir.path());
        }
        // The id before the notice: a refused id file turns telemetry off,
        // and the notice is shown only while telemetry is on.
        let (user_uuid, note) =
            identity::user_uuid(config_dir.as_ref()).map_err(OffReason::ConfigDirRefused)?;
        if let Some(note) = note {
            log(note);
        }
        let (flags, ignored) = DeclaredFlags::new(&settings.flags);
        if ignored > 0 {
            log(&format!(
                "{ignored} declared flag name(s) ignored: a flag name is --name or -x \
                 (ASCII letters, digits, - and _)"
            ));
        }
        // Log-only mode sends nothing, so there is nothing to hold and no
        // notice to show first.
        let hold = if log_only {
            None
        } else {
            first_run_hold(settings, config_dir.as_ref())?
        };
        let env = &settings.env;
        let common = CommonFields {
            user_uuid,
            version: truncate_at_char_boundary(&settings.version, MAX_VERSION_LEN).to_owned(),
            os: std::env::consts::OS,
            os_language: env.os_language(),
            arch: std::env::consts::ARCH,
            ci: env.is_ci(),
            ci_provider: env.ci_provider(),
            ai_agent: env.ai_agent(),
        };
        Ok(Prepared {
            context: RecordContext {
                source: settings.app.clone(),
                common,
                tags,
            },
            output,
            hold,
            flags,
            config_dir: config_dir.as_ref().map(|dir| dir.path().to_owned()),
        })
    }

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
            Some(known) if !known.iter().any(|name| *name == *model) => {
                Cow::Borrowed(crate::OTHER_NAME)
            }
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
                if let Some(session) = &within.counted {
                    session.count_tool_call(outcome.error_kind());
                }
                Event::Tool(ToolEvent {
                    tool_name: bounded_name(name),
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
            return;
        }
        if let Err(error) = sink.send(std::slice::from_ref(&record)) {
            count_drops(&self.drops, &error, 1);
            self.log_send_error(&error);
        }
    }

    /// Records dropped before they could be sent, by reason.
    #[allow(dead_code)]
    pub(crate) fn drops(&self) -> &Arc<DropCounts> {
        &self.drops
    }

    /// Waits until what was recorded before is delivered (background mode)
    /// or `timeout` (`None`: the exit budget) passes; at once when inline.
    pub(crate) fn flush(&self, timeout: Option<Duration>) -> Flushed {
        match &self.background {
            Some(background) => background.flush(timeout.unwrap_or(self.exit_budget)),
            None => Flushed::Delivered,
        }
    }

    /// A flush within the exit budget that then tidies the spool file (the
    /// flush guard's drop, the end of the outermost command). After a flush
    /// point that ran out of the budget, the next one only tidies, unless
    /// a flush completed in between.
    pub(crate) fn finish(&self) -> Flushed {
        let Some(background) = &self.background else {
            return Flushed::Delivered;
        };
        let budget = if self.exit_budget_spent.load(Ordering::Relaxed) {
            Duration::ZERO
        } else {
            self.exit_budget
        };
        let flushed = background.finish(budget);
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

struct Prepared {
    context: RecordContext,
    output: Output,
    hold: Option<HoldReason>,
    flags: DeclaredFlags,
    /// The checked config dir, where background delivery spools.
    config_dir: Option<PathBuf>,
}

/// Counts the `records` records a failed send dropped for good: refused
/// by the collector (`rejected`), or not sent because the collector asked
/// to wait (`backoff`; inline records cannot wait). A transport failure is
/// not counted here.
fn count_drops(drops: &DropCounts, error: &SendError, records: u64) {
    match error {
        SendError::Rejected(status) if backoff::refused_for_good(*status) => {
            drops.add(DropReason::Rejected, records);
        }
        SendError::Rejected(_) | SendError::Backoff { .. } => {
            drops.add(DropReason::Backoff, records);
        }
        SendError::PartlyRejected { rejected } => drops.add(DropReason::Rejected, *rejected),
        _ => {}
    }
}

/// Telemetry is off by the user's choice: deletes every spool file in the
/// config dir, unsent. Creates nothing and writes nothing else; a config
/// dir that is missing, or a symbolic link, is left alone.
fn delete_spool(settings: &Settings, dir: Option<&Path>, debug: Option<&DebugLog>) {
    let log = |line: &str| {
        if let Some(debug) = debug {
            debug.line(line);
        }
    };
    if check_app_name(&settings.app).is_err() {
        return;
    }
    let Some(dir) = dir else {
        return;
    };
    if !is_real_dir(dir) {
        return;
    }
    let (removed, problems) = spool::delete_all(dir);
    if removed > 0 {
        log(&format!(
            "telemetry is off: deleted {removed} spool file(s) of earlier runs, unsent"
        ));
    }
    for problem in problems {
        log(&format!(
            "telemetry is off, but a spool file remains: {problem}"
        ));
    }
}

fn is_real_dir(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir).is_ok_and(|meta| meta.is_dir())
}

/// Background delivery when asked for and the sink can send serialised
/// records; `None` (inline) otherwise, said in the debug log.
fn background(
    settings: &Settings,
    parts: &Prepared,
    debug: Option<&Arc<DebugLog>>,
    drops: &Arc<DropCounts>,
) -> Option<Background> {
    if settings.delivery != Delivery::Background {
        return None;
    }
    // Log-only mode sends nothing, so it spools nothing either.
    let Output::Send(sink) = &parts.output else {
        return None;
    };
    if !sink.sends_serialised() {
        if let Some(debug) = debug {
            debug.line(
                "background delivery needs a sink that sends serialised records; delivering inline",
            );
        }
        return None;
    }
    let sink = Arc::clone(sink);
    let drops = Arc::clone(drops);
    // What the collector refused for good is dropped (and counted); a
    // batch it asked to wait for stays in the spool, so is not counted.
    let send: SendFn = Box::new(move |records: &[String]| {
        let result = sink.send_serialised(records);
        match &result {
            Err(error @ SendError::Rejected(status)) if backoff::refused_for_good(*status) => {
                count_drops(&drops, error, records.len() as u64);
            }
            Err(error @ SendError::PartlyRejected { .. }) => count_drops(&drops, error, 0),
            _ => {}
        }
        result
    });
    let note = debug.map(|debug| {
        let debug = Arc::clone(debug);
        Box::new(move |note: &Note| debug.line(&note.to_string())) as NoteFn
    });
    let limits = Limits {
        batch_records: settings.batch_limits.max_records,
        batch_bytes: settings.batch_limits.max_bytes,
        ..Limits::default()
    };
    Some(Background::new(
        parts.config_dir.clone(),
        send,
        limits,
        note,
    ))
}

/// The given sink; else an HTTP sink for `<APP>_TELEMETRY_ENDPOINT`,
/// `TELEMETRY_ENDPOINT` or the configured endpoint; else off.
/// The sink, and its back-off when the recorder made it (an app's own
/// sink keeps its own).
type ChosenSink = (Arc<dyn Sink>, Option<Arc<Backoff>>);

fn choose_sink(settings: &mut Settings, log: &dyn Fn(&str)) -> Result<ChosenSink, OffReason> {
    if let Some(sink) = settings.sink.take() {
        return Ok((sink, None));
    }
    let from_env = settings.env.endpoint(&settings.app)?;
    // Every endpoint the environment sets counts: its key rule is one.
    let source = if from_env.is_some() {
        EndpointSource::Environment
    } else {
        EndpointSource::Code
    };
    let Some(endpoint) = from_env.or_else(|| settings.endpoint.clone()) else {
        return Err(OffReason::NoDestination);
    };
    http_sink(settings, &endpoint, source, log)
}

/// Who chose the endpoint: the app in code, or the environment.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EndpointSource {
    Code,
    Environment,
}

#[cfg(feature = "http")]
fn http_sink(
    settings: &Settings,
    endpoint: &str,
    source: EndpointSource,
    log: &dyn Fn(&str),
) -> Result<ChosenSink, OffReason> {
    use crate::sink::http::route::KeyWithheld;
    use crate::sink::HttpOptions;
    let user_agent = format!("{}/{}", settings.app, settings.version);
    let mut api_key = settings.api_key.as_deref();
    if api_key.is_some()
        && source == EndpointSource::Environment
        && !settings.api_key_for_endpoint_override
    {
        log(&KeyWithheld::EndpointFromEnvironment.to_string());
        api_key = None;
    }
    // The app's own headers follow the key's rule: its own endpoint only.
    let mut headers = Vec::new();
    if source == EndpointSource::Environment && !settings.headers.is_empty() {
        log(&format!(
            "{} header(s) of the app withheld: the endpoint comes from the environment, and the app's headers go only to its own",
            settings.headers.len()
        ));
    } else {
        for (name, value) in &settings.headers {
            match crate::sink::http::check_header(name, value) {
                Ok(checked) => headers.push(checked),
                Err(refused) => log(&refused.to_string()),
            }
        }
    }
    if settings.compression == Some(crate::Compression::Gzip)
        && crate::Compression::Gzip.available() != crate::Compression::Gzip
    {
        log("gzip needs the `gzip` feature of telemetry-core; bodies go uncompressed");
    }
    let made = settings
        .export
        .sink(
            endpoint,
            HttpOptions {
                user_agent: &user_agent,
                api_key,
                timeout: settings.timeout,
                time_budget: settings.time_budget,
                compression: settings.compression,
                headers,
                env: &settings.env,
            },
        )
        .map_err(OffReason::InvalidSetting)?;
    if api_key.is_some() && !made.sends_api_key {
        log(&KeyWithheld::PlainHttp.to_string());
    }
    Ok((made.sink, Some(made.backoff)))
}

#[cfg(not(feature = "http"))]
fn http_sink(
    _settings: &Settings,
    _endpoint: &str,
    _source: EndpointSource,
    _log: &dyn Fn(&str),
) -> Result<ChosenSink, OffReason> {
    Err(OffReason::NoHttpSupport)
}

/// Shows the notice when this is the first run, and returns why this run's
/// events must then be held back.
/// A marker that is refused turns telemetry off for this run.
fn first_run_hold(
    settings: &mut Settings,
    config_dir: Option<&CheckedConfigDir>,
) -> Result<Option<HoldReason>, OffReason> {
    if !settings.notice || settings.env.hide_banner() {
        return Ok(None);
    }
    let hold = match identity::claim_notice(config_dir).map_err(OffReason::ConfigDirRefused)? {
        NoticeMarker::AlreadyShown => return Ok(None),
        // Shown by the run that created the marker: not again.
        NoticeMarker::ShownToAnotherRun => return Ok(Some(HoldReason::ShownToAnotherRun)),
        NoticeMarker::ShowNow => HoldReason::FirstRun,
        NoticeMarker::ShowEveryRun if config_dir.is_none() => HoldReason::NoConfigDir,
        NoticeMarker::ShowEveryRun => HoldReason::ConfigDirNotWritable,
    };
    notice::write_notice(&mut *notice_out(settings), &settings.app);
    Ok(Some(hold))
}

fn notice_out(settings: &mut Settings) -> Box<dyn Write + Send> {
    settings
        .notice_writer
        .take()
        .unwrap_or_else(|| Box::new(std::io::stderr()))
}

/// One warning line per process, where the notice would go.
fn warn_unrecognised_enabled(settings: &mut Settings, reason: &OffReason) {
    static WARNED: Once = Once::new();
    let mut out = notice_out(settings);
    WARNED.call_once(|| {
        let _ = match reason {
            OffReason::AppEnabledUnrecognised { variable } => writeln!(
                out,
                "warning: {variable} has an unrecognised value; telemetry is off (use true, false or log)"
            ),
            _ => writeln!(
                out,
                "warning: TELEMETRY_ENABLED has an unrecognised value; telemetry is off (use true, false or log)"
            ),
        };
    });
}
