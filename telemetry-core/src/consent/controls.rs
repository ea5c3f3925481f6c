//! The user's controls: what decided on or off for one app, and the
//! `telemetry status | enable | disable | reset-id` commands built on it.
//!
//! [`Controls`] is resolved from a builder's settings without building a
//! client, by the same decision a client makes (the variables, the
//! remembered choice, every veto). It writes nothing, opens no socket and
//! starts no thread, so an app runs its `telemetry` subcommand
//! on it ([`TelemetryBuilder::controls`](crate::TelemetryBuilder::controls))
//! and records nothing. Every built client keeps its own, on or off
//! ([`Telemetry::controls`](crate::Telemetry::controls)).

use crate::consent::app_consent::AppConsent;
use crate::consent::decide::{decide, Verdict, Veto};
use crate::consent::deletion;
use crate::consent::precedence::Decision;
use crate::consent::reason::OffReason;
use crate::consent::status::Status;
use crate::delivery::Delivery;
use crate::delivery::{deferred, spool};
use crate::files::choice::{self, ChoiceError};
use crate::files::config_dir::{self, ConfigDirRefused, NoConfigDir};
use crate::files::history;
use crate::files::notice_marker;
use crate::files::user_id;
use crate::settings::Settings;
use crate::sink::Sink;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What decided on or off for one app, and where its files are: the
/// `telemetry` subcommand's state: made by
/// [`TelemetryBuilder::controls`](crate::TelemetryBuilder::controls), kept by
/// every client ([`Telemetry::controls`](crate::Telemetry::controls)).
///
/// ```
/// use telemetry_core::{Mode, Telemetry};
///
/// let dir = std::env::temp_dir().join(format!("controls-doc-{}", std::process::id()));
/// let builder = || {
///     Telemetry::builder("my-cli", "1.0.0")
///         .endpoint("https://collector.example/v1/events")
///         .config_dir(&dir)
///         .env_vars([("LANG", "C")])
/// };
/// // `my-cli telemetry disable`
/// builder().controls().disable().unwrap();
/// // Later runs are off, and say why.
/// let telemetry = builder().build();
/// assert!(!telemetry.is_enabled());
/// let status = telemetry.status();
/// assert_eq!(status.mode, Mode::Off);
/// assert_eq!(status.decided_by.as_str(), "remembered_choice");
/// // `my-cli telemetry enable`
/// builder().controls().enable().unwrap();
/// assert_eq!(builder().controls().status().decided_by.as_str(), "remembered_choice");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controls {
    app: String,
    version: String,
    /// Where `telemetry delete` sends its request.
    deletion: DeletionSink,
    verdict: Verdict,
    /// The delivery mode asked for.
    delivery: Delivery,
}

impl Controls {
    /// Decides from the settings ([`decide`]): the variables, the
    /// remembered choice and every veto. Reads, never writes.
    pub(crate) fn resolve(settings: &Settings, consent: &AppConsent) -> Controls {
        Controls {
            app: settings.app.clone(),
            version: settings.version.clone(),
            deletion: DeletionSink(None),
            verdict: decide(settings, consent),
            delivery: settings.delivery,
        }
    }

    /// The controls of a client made by
    /// [`Telemetry::disabled`](crate::Telemetry::disabled).
    pub(crate) const fn disabled_in_code() -> Controls {
        Controls {
            app: String::new(),
            version: String::new(),
            deletion: DeletionSink(None),
            verdict: Verdict::disabled_in_code(),
            delivery: Delivery::Inline,
        }
    }

    /// The controls of the `telemetry` subcommand: resolved the same way,
    /// ready to send a deletion request (`telemetry delete`).
    pub(crate) fn for_subcommand(settings: &Settings, consent: &AppConsent) -> Controls {
        let mut controls = Controls::resolve(settings, consent);
        controls.deletion = DeletionSink(deletion::sink_for(settings, &controls.verdict));
        controls
    }

    /// The whole decision, and what it names.
    pub(crate) fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    /// Records a veto met while the client was built, after the decision
    /// (a file swapped in between): the same rule the decision gives it.
    pub(crate) fn vetoed(&mut self, veto: Veto) {
        self.verdict = self.verdict.clone().vetoed(veto);
    }

    /// Why the decision is off, as the client reports it; `None` when on or
    /// log-only.
    pub(crate) fn off_reason(&self) -> Option<OffReason> {
        self.verdict.off_reason(&self.app)
    }

    /// The decision: on, off or log-only, and which rule decided.
    #[must_use]
    pub fn decision(&self) -> Decision {
        self.verdict.decision
    }

    /// The config dir, where the anonymous id, the notice marker and the
    /// remembered choice live; `None` when there is none (no `HOME`, an
    /// isolated client).
    #[must_use]
    pub fn config_dir(&self) -> Option<&Path> {
        self.verdict.config_dir.as_deref()
    }

    /// `telemetry status`: print it (`Display`) or its JSON
    /// ([`Status::to_json`]). Reads the notice marker's version, if there
    /// is one; writes nothing.
    #[must_use]
    pub fn status(&self) -> Status {
        let notice_version_seen = self.config_dir().and_then(notice_marker::version_seen);
        let mut status = Status::new(
            &self.verdict,
            &self.app,
            self.delivery.name(),
            notice_version_seen,
        );
        if let Delivery::Deferred { upload_every } = self.delivery {
            status.next_upload = Some(
                self.config_dir()
                    .and_then(|dir| deferred::next_upload(dir, upload_every)),
            );
        }
        status
    }

    /// `telemetry enable`: remembers "on" in the config dir. A variable
    /// (`DO_NOT_TRACK`, `TELEMETRY_ENABLED`, the app's own) still wins.
    /// Sends nothing, writes nothing else.
    ///
    /// # Errors
    ///
    /// [`ControlError`] when there is no config dir or the choice cannot be
    /// written.
    pub fn enable(&self) -> Result<(), ControlError> {
        choice::enable(self.dir()?).map_err(ControlError::Choice)
    }

    /// `telemetry enable --errors-only`: remembers "on, failures only" in
    /// the config dir: only failed commands and failed tool calls are sent.
    /// A variable still wins; a machine policy still restricts.
    ///
    /// # Errors
    ///
    /// [`ControlError`] when there is no config dir or the choice cannot be
    /// written.
    pub fn enable_errors_only(&self) -> Result<(), ControlError> {
        choice::enable_errors_only(self.dir()?).map_err(ControlError::Choice)
    }

    /// `telemetry enable --local-only`: remembers "on, kept on this
    /// machine only" in the config dir: records go to the local history
    /// (`telemetry show`) and no connection is ever opened. A variable
    /// still wins; a machine policy still restricts.
    ///
    /// # Errors
    ///
    /// [`ControlError`] when there is no config dir or the choice cannot be
    /// written.
    pub fn enable_local_only(&self) -> Result<(), ControlError> {
        choice::enable_local_only(self.dir()?).map_err(ControlError::Choice)
    }

    /// `telemetry disable`: remembers "off" in the config dir and forgets
    /// the rest: removes the anonymous id's file (a later `enable` starts
    /// with a new id), deletes every spooled record unsent, and removes the
    /// local history. Nothing is sent by this app again until
    /// `telemetry enable` (or a variable turning it on).
    ///
    /// # Errors
    ///
    /// [`ControlError`] when there is no config dir, the choice cannot be
    /// written, or the id, the history or a spool file cannot be deleted.
    pub fn disable(&self) -> Result<(), ControlError> {
        let dir = self.dir()?;
        choice::disable(dir).map_err(ControlError::Choice)?;
        choice::reset_id(dir).map_err(ControlError::Choice)?;
        history::remove(dir).map_err(|error| {
            ControlError::Choice(ChoiceError::new("remove the local history", dir, error))
        })?;
        let (_, mut problems) = spool::delete_all(dir);
        if let Err(error) = deferred::delete_all(dir) {
            problems.push(spool::SpoolError::Unwritable(error.kind()));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ControlError::SpoolLeft {
                dir: dir.to_owned(),
                files: problems.len(),
            })
        }
    }

    /// `telemetry delete`: sends one `deletion_request` record carrying
    /// the anonymous id being forgotten (inline, within the sink's usual
    /// timeout and time budget), then does what [`disable`](Self::disable)
    /// does. A request that cannot be delivered is kept alone in the spool
    /// and sent by a later run of the app, even though telemetry is then
    /// off: the only record sent after an opt-out. Deletion requests of
    /// earlier ids still waiting are kept with it. Made by
    /// [`TelemetryBuilder::controls`](crate::TelemetryBuilder::controls)
    /// (a client's own controls send nothing: the request waits).
    ///
    /// # Errors
    ///
    /// As [`disable`](Self::disable); or the request could be neither sent
    /// nor kept ([`ControlError::History`] names why).
    pub fn delete(&self) -> Result<Deletion, ControlError> {
        let dir = self.dir()?;
        let mut waiting = deletion::pending(dir);
        let Some(id) = user_id::existing(dir) else {
            self.disable()?;
            return self.keep_waiting(dir, &waiting, Deletion::NoId);
        };
        let request = deletion::record(&self.app, &self.version, &id);
        let sent = self
            .deletion
            .0
            .as_deref()
            .is_some_and(|sink| deletion::send(sink, std::slice::from_ref(&request)));
        self.disable()?;
        if sent {
            return self.keep_waiting(dir, &waiting, Deletion::Delivered);
        }
        waiting.push(request);
        self.keep_waiting(dir, &waiting, Deletion::Pending)
    }

    fn keep_waiting(
        &self,
        dir: &Path,
        waiting: &[String],
        outcome: Deletion,
    ) -> Result<Deletion, ControlError> {
        if waiting.is_empty() {
            return Ok(outcome);
        }
        deletion::keep(dir, waiting)
            .map(|()| outcome)
            .map_err(|error| {
                ControlError::History(format!(
                "was deleted, but the deletion request could not be kept to send later: {error}"
            ))
            })
    }

    /// Where the local history is kept (`None` without a config dir).
    #[must_use]
    pub fn history_path(&self) -> Option<PathBuf> {
        self.config_dir().map(history::path)
    }

    /// `telemetry show [--json] [--last N]`: what was sent, from the local
    /// history, oldest first (the last `last` records when given). Plain:
    /// where the file is, then one line per record: the time it was sent,
    /// its event, its name and its outcome (`ok`, `error` or `-`), and
    /// the host it went to (`local` when kept only here). `json`: a JSON
    /// array of the entries, each `{"sent_at", "host", "record"}` with the
    /// record as sent. Reads only; works when telemetry is off.
    ///
    /// # Errors
    ///
    /// [`ControlError::History`] when the history's file cannot be trusted
    /// or read.
    pub fn show(&self, json: bool, last: Option<usize>) -> Result<String, ControlError> {
        let (entries, path) = match self.config_dir().filter(|_| !self.verdict.elevated) {
            Some(dir) => (
                history::read(dir).map_err(ControlError::History)?,
                Some(history::path(dir)),
            ),
            None => (Vec::new(), None),
        };
        let skip = last.map_or(0, |last| entries.len().saturating_sub(last));
        let entries = &entries[skip..];
        if json {
            let mut text = serde_json::to_string_pretty(entries).unwrap_or_else(|_| "[]".into());
            text.push('\n');
            return Ok(text);
        }
        let mut text = match &path {
            Some(path) => format!(
                "Records sent by this app, oldest first, from {} ({} shown):\n",
                path.display(),
                entries.len()
            ),
            None => "There is no config dir, so no local history is kept.\n".to_owned(),
        };
        for entry in entries {
            text.push_str(&format!(
                "{}  {}  {}  {}  {}\n",
                entry.sent_at,
                entry.event(),
                entry.name(),
                entry.outcome(),
                entry.host.as_deref().unwrap_or("local"),
            ));
        }
        Ok(text)
    }

    /// `telemetry reset-id`: removes the anonymous id's file, so that the
    /// next run that sends makes a new id. The remembered choice is kept.
    ///
    /// # Errors
    ///
    /// [`ControlError`] when there is no config dir or the id file cannot be
    /// removed.
    pub fn reset_id(&self) -> Result<(), ControlError> {
        choice::reset_id(self.dir()?).map_err(ControlError::Choice)
    }

    /// The config dir, checked as the recorder checks it (created 0700 when
    /// missing; refused when it is a link, another user's or writable by
    /// others), before anything is written or deleted in it.
    fn dir(&self) -> Result<&Path, ControlError> {
        let dir = self.config_dir().ok_or(ControlError::NoConfigDir)?;
        if self.verdict.elevated {
            return Err(ControlError::NoConfigDir);
        }
        match config_dir::open_config_dir(Some(dir), None, false) {
            Ok(_) => Ok(dir),
            Err(NoConfigDir::Refused(refused)) => Err(ControlError::Refused(refused)),
            Err(_) => Err(ControlError::NoConfigDir),
        }
    }
}

/// What `telemetry delete` did with the deletion request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Deletion {
    /// Delivered: the backend can erase the records of the forgotten id.
    Delivered,
    /// Not delivered now (the collector unreachable, no endpoint): kept
    /// alone in the spool, sent by a later run of the app.
    Pending,
    /// There was no id to forget: nothing to send.
    NoId,
}

/// The sink a deletion request goes through (not compared, not printed).
#[derive(Clone)]
struct DeletionSink(Option<Arc<dyn Sink>>);

impl fmt::Debug for DeletionSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "DeletionSink(..)"
        } else {
            "DeletionSink(None)"
        })
    }
}

impl PartialEq for DeletionSink {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for DeletionSink {}

/// Why `telemetry enable | disable | reset-id` did not complete. The text
/// says what to do instead.
#[derive(Debug)]
#[non_exhaustive]
pub enum ControlError {
    /// There is no config dir to keep the choice in.
    NoConfigDir,
    /// The config dir must not be trusted (a link, another user's, writable
    /// by others): nothing is written in it.
    Refused(ConfigDirRefused),
    /// The choice could not be saved, or the id removed.
    Choice(ChoiceError),
    /// The command's output could not be written.
    Output(std::io::Error),
    /// The local history cannot be trusted or read: why.
    History(String),
    /// Telemetry is disabled, but some spool files could not be deleted.
    SpoolLeft {
        /// The config dir holding them.
        dir: PathBuf,
        /// How many were left.
        files: usize,
    },
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::NoConfigDir => f.write_str(
                "there is no config dir to remember the choice in (set XDG_CONFIG_HOME or HOME); \
                 set DO_NOT_TRACK=1 in your environment instead",
            ),
            ControlError::Refused(refused) => write!(
                f,
                "{refused}, so nothing is written there; fix its owner or mode, or set \
                 DO_NOT_TRACK=1 in your environment instead"
            ),
            ControlError::Choice(error) => write!(f, "{error}"),
            ControlError::Output(error) => write!(f, "could not write the output: {error}"),
            ControlError::History(problem) => write!(f, "the local history {problem}"),
            ControlError::SpoolLeft { dir, files } => write!(
                f,
                "telemetry is disabled, but {files} spool file(s) in {} could not be deleted; \
                 delete the telemetry-spool-* entries there",
                dir.display()
            ),
        }
    }
}

impl std::error::Error for ControlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ControlError::Choice(error) => Some(error),
            ControlError::Output(error) => Some(error),
            ControlError::NoConfigDir
            | ControlError::Refused(_)
            | ControlError::History(_)
            | ControlError::SpoolLeft { .. } => None,
        }
    }
}
