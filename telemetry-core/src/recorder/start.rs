//! Everything that runs once, when a client is built: from the decision
//! and the settings to a running [`Recorder`] (or to an [`Off`] client that
//! says why): the sink, the tags, the anonymous id, the first-run notice,
//! background delivery.

use super::cap::Cap;
use super::debug_log::{DebugLog, DebugTarget};
use super::sampling::{self, SampleRate, Sampled};
use super::session_state::{LiveSessions, Owner};
use super::{Output, Recorder, ACTIVE};
use crate::consent::app_consent::AppConsent;
use crate::consent::ci_policy;
use crate::consent::controls::Controls;
use crate::consent::decide::{Destination, Verdict, Veto};
use crate::consent::deletion;
use crate::consent::notice;
use crate::consent::precedence::Mode;
use crate::consent::reason::{HoldReason, OffReason};
use crate::delivery::background::{Background, Limits, Note, NoteFn, SendFn, SHORT_RUN};
use crate::delivery::backoff::Backoff;
use crate::delivery::deferred::{self, Deferred};
use crate::delivery::dropped::DropCounts;
use crate::delivery::spool;
use crate::delivery::Delivery;
use crate::env;
use crate::files::config_dir::{self, CheckedConfigDir, DirState, NoConfigDir};
use crate::files::history;
use crate::files::notice_marker::{self, NoticeMarker, NOTICE_MARKER_FILE};
use crate::files::user_id::{self, USER_UUID_FILE};
use crate::record::declared_flags::DeclaredFlags;
use crate::record::limits::{truncate_at_char_boundary, MAX_VERSION_LEN};
use crate::record::{CommonFields, RecordContext};
use crate::settings::{ConfigDir, NoHttpSink, Settings};
use crate::sink::history::{History, Kept, NoteLine};
use crate::sink::{FailurePolicy, Sink};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Once, OnceLock};

/// Why a built client is off, and its controls (for its status).
pub(crate) struct Off {
    pub(crate) reason: OffReason,
    pub(crate) controls: Controls,
}

impl Recorder {
    /// Decides on, off or log-only ([`Controls`], the one decision) and,
    /// unless off, prepares everything to record: chooses the sink (none in
    /// log-only mode), reads or creates the anonymous id, and shows the
    /// first-run notice when due (never in log-only mode, which sends
    /// nothing). When off, says why in the debug log (debug mode only) and
    /// hands back the controls, so that an off client still has a status.
    pub(crate) fn new(mut settings: Settings, consent: AppConsent) -> Result<Recorder, Box<Off>> {
        let debug = settings.debug_on().then(|| {
            Arc::new(DebugLog::open(
                settings.debug_target.take().unwrap_or(DebugTarget::Stderr),
            ))
        });
        let mut controls = Controls::resolve(&settings, &consent);
        if let Some(reason) = controls.off_reason() {
            return Err(Box::new(off(
                &mut settings,
                controls,
                reason,
                debug.as_deref(),
            )));
        }
        // Process sampling, after the decision (an opt-out wins, and still
        // deletes the spool) and before anything is written or opened.
        let log_only = controls.decision().mode == Mode::Log;
        let (rate, sampled) = sampling::sample(settings.sample_rate, debug.as_deref());
        if let Some(out @ Sampled::Out(_)) = sampled {
            if log_only {
                match &debug {
                    Some(debug) => debug.line(&out.to_string()),
                    None => {
                        DebugLog::open(settings.debug_target.take().unwrap_or(DebugTarget::Stderr))
                            .line(&out.to_string())
                    }
                }
            }
            return Err(Box::new(off(
                &mut settings,
                controls,
                OffReason::SampledOut,
                debug.as_deref(),
            )));
        }
        match Recorder::prepare(
            &mut settings,
            &consent,
            &controls,
            debug.as_deref(),
            rate,
            sampled,
        ) {
            Ok(mut parts) => {
                ACTIVE.store(true, Ordering::Relaxed);
                let level = controls.decision().level;
                let history = history(&settings, controls.verdict(), &parts);
                if let (Some(history), Output::Send(sink)) = (&history, &mut parts.output) {
                    *sink = Arc::new(Kept {
                        inner: Arc::clone(sink),
                        history: history.clone(),
                        note: debug
                            .clone()
                            .map(|debug| Box::new(move |line: &str| debug.line(line)) as NoteLine),
                    });
                }
                // At `local` nothing is sent, not even what earlier runs
                // spooled: no background delivery, no connection.
                let background = if level.sends() {
                    background(&settings, &parts, debug.as_ref())
                } else {
                    None
                };
                // One counter per client: background delivery's, when it
                // has one, so that every drop is counted once.
                let drops = background
                    .as_ref()
                    .map_or_else(|| Arc::new(DropCounts::default()), Background::drop_counts);
                // Deferred delivery appends to its own spool and uploads
                // at most once per interval; never at `local`.
                let deferred = if level.sends() {
                    deferred(
                        &settings,
                        &parts,
                        controls.verdict().ephemeral,
                        debug.as_ref(),
                        &drops,
                    )
                } else {
                    None
                };
                let failure_policy = match &parts.output {
                    Output::Send(sink) => sink.failure_policy(),
                    Output::Print(_) => FailurePolicy::KeepGoing,
                };
                Ok(Recorder {
                    level,
                    history,
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
                    deferred,
                    exit_budget: settings.exit_budget,
                    commands_open: AtomicUsize::new(0),
                    exit_budget_spent: AtomicBool::new(false),
                    rollup_after: settings.tool_rollup,
                    cap: Cap::new(settings.max_records),
                    drops,
                    max_batch_bytes: settings.batch_limits.max_bytes,
                })
            }
            // A file swapped in after the decision looked: the same veto.
            Err(veto) => {
                let reason = veto.off_reason();
                controls.vetoed(veto);
                Err(Box::new(off(
                    &mut settings,
                    controls,
                    reason,
                    debug.as_deref(),
                )))
            }
        }
    }

    fn prepare(
        settings: &mut Settings,
        consent: &AppConsent,
        controls: &Controls,
        debug: Option<&DebugLog>,
        rate: SampleRate,
        sampled: Option<Sampled>,
    ) -> Result<Prepared, Veto> {
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
            let (sink, its_backoff) = make_sink(settings, controls.verdict(), &log)?;
            backoff = its_backoff;
            Output::Send(sink)
        };
        // Sampled in (a rate below 1): log-only mode and debug mode say so.
        if let Some(sampled) = sampled {
            match &output {
                Output::Print(Some(own)) => own.line(&sampled.to_string()),
                _ => log(&sampled.to_string()),
            }
        }
        let env = &settings.env;
        let (tags, note) = env.tags();
        if let Some(note) = note {
            log(note);
        }
        // The path the controls found (`Settings::config_dir`, else the
        // platform's default), checked before any file in it is used.
        let path = controls.config_dir();
        // In CI with the anonymous CI policy: nothing under the config dir,
        // an id for this process, no notice (one line instead).
        let ephemeral = controls.verdict().ephemeral;
        let shows_notice =
            !log_only && !ephemeral && settings.notice && !settings.env.hide_banner();
        let config_dir = if matches!(settings.config_dir, ConfigDir::InMemory) || ephemeral {
            // Asked for: no file at all, and an in-memory id is no news.
            None
        } else {
            match config_dir::open_config_dir(path, env.home().as_deref(), env.sudo_uid_set()) {
                Ok(dir) => Some(dir),
                Err(NoConfigDir::Refused(refused)) => {
                    return Err(Veto::Refused {
                        item: refused.item,
                        path: path.map(Path::to_owned).unwrap_or_default(),
                        why: refused.why,
                    })
                }
                // A notice this run could not remember is not shown: off
                // (the decision saw it coming unless the dir went away
                // since, or the system refused what it allowed).
                Err(NoConfigDir::Elevated) if shows_notice => return Err(Veto::RootForAnotherUser),
                Err(why) if shows_notice => {
                    return Err(Veto::NoConfigDir {
                        path: path.map(Path::to_owned),
                        why,
                    })
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
        // `persistent_id(false)`: this process's own id, no id file.
        let id_dir = config_dir.as_ref().filter(|_| settings.persistent_id);
        let (user_uuid, note) = user_id::user_uuid(id_dir).map_err(|refused| Veto::Refused {
            item: refused.item,
            path: path.map(|dir| dir.join(USER_UUID_FILE)).unwrap_or_default(),
            why: refused.why,
        })?;
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
        // notice to show first; an ephemeral run says so in one line.
        let hold = if log_only {
            None
        } else if ephemeral {
            let sends = controls.decision().level.sends();
            if sends && !settings.env.hide_banner() {
                let line = ci_policy::ci_line(&settings.app);
                let _ = notice_out(settings).write_all(line.as_bytes());
            }
            None
        } else {
            first_run_hold(settings, consent, config_dir.as_ref())?
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
            sample_rate: rate.on_records(),
            ephemeral_id: ephemeral || !settings.persistent_id,
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
            // make_sink gives a back-off exactly when it made the HTTP sink
            // itself (an app's own sink keeps its own).
            own_http_sink: backoff.is_some(),
        })
    }
}

struct Prepared {
    context: RecordContext,
    output: Output,
    hold: Option<HoldReason>,
    flags: DeclaredFlags,
    /// The checked config dir, where background delivery spools.
    config_dir: Option<PathBuf>,
    /// The sink is the toolkit's HTTP sink, made for the endpoint (not the
    /// app's own): its requests end by a flush's deadline.
    own_http_sink: bool,
}

/// Why the client is off: said in the debug log; an unrecognised switch
/// value gets its one warning line; opting out deletes the spool of
/// earlier runs.
fn off(
    settings: &mut Settings,
    controls: Controls,
    reason: OffReason,
    debug: Option<&DebugLog>,
) -> Off {
    if let OffReason::EnabledUnrecognised | OffReason::AppEnabledUnrecognised { .. } = &reason {
        warn_unrecognised_enabled(settings, &reason);
    }
    // Opting out wins over records spooled by earlier runs, except a
    // deletion request, which is sent first (the only record ever sent
    // after an opt-out); while it cannot be, the spool is kept.
    if reason.is_opt_out() && send_deletion_requests(settings, &controls, debug) {
        delete_spool(controls.config_dir(), debug);
    }
    if let Some(debug) = debug {
        debug.line(&reason.to_string());
    }
    Off { reason, controls }
}

/// Sends the deletion requests waiting in the spool (`telemetry delete`
/// could not); `false` when some wait still (not delivered), so that the
/// spool must be kept. Sends nothing else.
fn send_deletion_requests(
    settings: &Settings,
    controls: &Controls,
    debug: Option<&DebugLog>,
) -> bool {
    let Some(dir) = controls.config_dir() else {
        return true;
    };
    if !matches!(
        config_dir::inspect_config_dir(dir),
        Ok(DirState::Ours { .. })
    ) {
        return true;
    }
    let waiting = deletion::pending(dir);
    if waiting.is_empty() {
        return true;
    }
    let sent = deletion::sink_for(settings, controls.verdict())
        .is_some_and(|sink| deletion::send(&*sink, &waiting));
    if let Some(debug) = debug {
        debug.line(if sent {
            "telemetry is off: sent the deletion request that telemetry delete could not"
        } else {
            "telemetry is off: the deletion request could not be sent; kept for a later run"
        });
    }
    sent
}

/// Telemetry is off by the user's choice: deletes every spool file in the
/// config dir, unsent. Creates nothing and writes nothing else; a config
/// dir that is missing, or not a dir of ours, is left alone.
fn delete_spool(dir: Option<&Path>, debug: Option<&DebugLog>) {
    let log = |line: &str| {
        if let Some(debug) = debug {
            debug.line(line);
        }
    };
    let Some(dir) = dir else {
        return;
    };
    if !matches!(
        config_dir::inspect_config_dir(dir),
        Ok(DirState::Ours { .. })
    ) {
        return;
    }
    match deferred::delete_all(dir) {
        Ok(true) => log("telemetry is off: deleted the deferred records of earlier runs, unsent"),
        Ok(false) => {}
        Err(error) => log(&format!(
            "telemetry is off, but the deferred spool remains ({})",
            error.kind()
        )),
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

/// The local history, when kept: asked for (`history(true)`, the
/// default) and a checked config dir to keep it in (none in CI, nor for an
/// isolated client).
fn history(settings: &Settings, verdict: &Verdict, parts: &Prepared) -> Option<History> {
    if !settings.history {
        return None;
    }
    Some(History {
        dir: parts.config_dir.clone()?,
        host: verdict.endpoint().and_then(history::host_of),
    })
}

/// Background delivery when asked for and the sink can send serialised
/// records; `None` (inline) otherwise, said in the debug log.
fn background(
    settings: &Settings,
    parts: &Prepared,
    debug: Option<&Arc<DebugLog>>,
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
    let send: SendFn = Box::new(move |records: &[String]| sink.send_serialised(records));
    let note = debug.map(|debug| {
        let debug = Arc::clone(debug);
        Box::new(move |note: &Note| debug.line(&note.to_string())) as NoteFn
    });
    // The claim of leftovers works at most a quarter of the exit budget.
    let mut limits = Limits {
        batch_records: settings.batch_limits.max_records,
        batch_bytes: settings.batch_limits.max_bytes,
        ..Limits::default()
    };
    limits.claim.time = settings.exit_budget / 4;
    // A short run sends at its flush point, on its own thread, while the
    // sender thread waits for its turn: as cheap as inline (the HTTP sink
    // keeps to the flush's time).
    if parts.own_http_sink {
        limits.short_run = SHORT_RUN;
    }
    Some(Background::new(
        parts.config_dir.clone(),
        send,
        limits,
        note,
    ))
}

/// Deferred delivery when asked for, unless the run is ephemeral (the CI
/// policy's verdict), with a config dir and a
/// sink that sends serialised records; `None` (inline) otherwise, said in
/// the debug log. Log-only mode says what it would defer.
fn deferred(
    settings: &Settings,
    parts: &Prepared,
    ephemeral: bool,
    debug: Option<&Arc<DebugLog>>,
    drops: &Arc<DropCounts>,
) -> Option<Deferred> {
    let Delivery::Deferred { upload_every } = settings.delivery else {
        return None;
    };
    let log = |line: &str| {
        if let Some(debug) = debug {
            debug.line(line);
        }
    };
    let sink = match &parts.output {
        Output::Send(sink) => sink,
        Output::Print(own) => {
            let line = format!(
                "log only: records would be deferred (appended to the deferred spool, \
                 uploaded at most every {} s); nothing is written or sent",
                upload_every.as_secs()
            );
            match (debug, own) {
                (Some(debug), _) => debug.line(&line),
                (None, Some(own)) => own.line(&line),
                (None, None) => {}
            }
            return None;
        }
    };
    // The CI policy's verdict: an ephemeral (anonymous CI) run writes no
    // files, so it delivers inline.
    if ephemeral {
        log("deferred delivery in CI: delivering inline");
        return None;
    }
    let Some(dir) = parts.config_dir.clone() else {
        log("deferred delivery needs a config dir; delivering inline");
        return None;
    };
    if !sink.sends_serialised() {
        log("deferred delivery needs a sink that sends serialised records; delivering inline");
        return None;
    }
    let sink = Arc::clone(sink);
    let send: deferred::SendFn = Box::new(move |records: &[String]| sink.send_serialised(records));
    let note = debug.map(|debug| {
        let debug = Arc::clone(debug);
        Box::new(move |line: &str| debug.line(line)) as deferred::NoteFn
    });
    Some(Deferred::new(
        dir,
        upload_every,
        send,
        note,
        Arc::clone(drops),
    ))
}

/// The given sink; else an HTTP sink for the endpoint the decision chose
/// (`<APP>_TELEMETRY_ENDPOINT`, `TELEMETRY_ENDPOINT` or the configured one).
fn make_sink(
    settings: &mut Settings,
    verdict: &Verdict,
    log: &dyn Fn(&str),
) -> Result<ChosenSink, Veto> {
    if let Some(sink) = settings.sink.take() {
        return Ok((sink, None));
    }
    match &verdict.destination {
        Destination::Endpoint { url, variable } => settings
            .http_sink(url, variable.is_some(), log)
            .map(|(sink, backoff)| (sink, Some(backoff)))
            .map_err(|refused| match refused {
                NoHttpSink::NoHttpSupport => Veto::NoHttpSupport,
                NoHttpSink::Invalid(why) => Veto::Setting(why),
            }),
        // The decision is off without a destination.
        Destination::Sink | Destination::Nowhere => {
            Err(Veto::Setting("no endpoint and no sink to send to".into()))
        }
    }
}

/// The sink, and its back-off when the recorder made it (an app's own
/// sink keeps its own).
type ChosenSink = (Arc<dyn Sink>, Option<Arc<Backoff>>);

/// Shows the notice when this is the first run, and returns why this run's
/// events must then be held back. A marker that is refused, or that cannot
/// be written (so that the notice could not be remembered), turns
/// telemetry off for this run, and no notice is shown.
fn first_run_hold(
    settings: &mut Settings,
    consent: &AppConsent,
    config_dir: Option<&CheckedConfigDir>,
) -> Result<Option<HoldReason>, Veto> {
    if !settings.notice || settings.env.hide_banner() {
        return Ok(None);
    }
    let path = config_dir.map(|dir| dir.path().to_owned());
    let claimed = notice_marker::claim_notice(config_dir, consent.notice_version);
    let (hold, changed) = match claimed.map_err(|refused| Veto::Refused {
        item: refused.item,
        path: path
            .as_ref()
            .map(|dir| dir.join(NOTICE_MARKER_FILE))
            .unwrap_or_default(),
        why: refused.why,
    })? {
        NoticeMarker::AlreadyShown => return Ok(None),
        // Shown by the run that created the marker: not again.
        NoticeMarker::ShownToAnotherRun => return Ok(Some(HoldReason::ShownToAnotherRun)),
        NoticeMarker::ShowNow => (HoldReason::FirstRun, None),
        NoticeMarker::ShowChanged { .. } => (
            HoldReason::NoticeChanged,
            Some(
                consent
                    .notice_changes
                    .clone()
                    .unwrap_or_else(|| "this notice was updated.".to_owned()),
            ),
        ),
        NoticeMarker::ShowEveryRun => {
            return Err(Veto::NoConfigDir {
                path,
                why: NoConfigDir::Unusable(std::io::ErrorKind::PermissionDenied),
            })
        }
    };
    notice::write_notice(
        &mut *notice_out(settings),
        &settings.app,
        changed.as_deref(),
    );
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
    let variable = match reason {
        OffReason::AppEnabledUnrecognised { variable } => variable,
        _ => env::TELEMETRY_ENABLED,
    };
    WARNED.call_once(|| {
        let _ = writeln!(
            out,
            "warning: {variable} has an unrecognised value; telemetry is off ({})",
            env::SWITCH_WORDS
        );
    });
}
