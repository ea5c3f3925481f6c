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

use crate::consent::decide::{decide, Verdict, Veto};
use crate::consent::precedence::Decision;
use crate::consent::reason::OffReason;
use crate::consent::status::Status;
use crate::delivery::Delivery;
use crate::delivery::{deferred, spool};
use crate::files::choice::{self, ChoiceError};
use crate::files::config_dir::{self, ConfigDirRefused, NoConfigDir};
use crate::files::notice_marker::NOTICE_MARKER_FILE;
use crate::settings::Settings;
use std::fmt;
use std::path::{Path, PathBuf};

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
    verdict: Verdict,
    /// The delivery mode asked for.
    delivery: Delivery,
}

impl Controls {
    /// Decides from the settings ([`decide`]): the variables, the
    /// remembered choice and every veto. Reads, never writes.
    pub(crate) fn resolve(settings: &Settings) -> Controls {
        Controls {
            app: settings.app.clone(),
            verdict: decide(settings),
            delivery: settings.delivery,
        }
    }

    /// The controls of a client made by
    /// [`Telemetry::disabled`](crate::Telemetry::disabled).
    pub(crate) const fn disabled_in_code() -> Controls {
        Controls {
            app: String::new(),
            verdict: Verdict::disabled_in_code(),
            delivery: Delivery::Inline,
        }
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
    /// ([`Status::to_json`]). Reads whether the notice marker exists;
    /// writes nothing.
    #[must_use]
    pub fn status(&self) -> Status {
        let notice_shown = self
            .config_dir()
            .is_some_and(|dir| std::fs::symlink_metadata(dir.join(NOTICE_MARKER_FILE)).is_ok());
        let mut status = Status::new(&self.verdict, &self.app, self.delivery.name(), notice_shown);
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

    /// `telemetry disable`: remembers "off" in the config dir and deletes
    /// every spooled record unsent. Nothing is sent by this app again until
    /// `telemetry enable` (or a variable turning it on).
    ///
    /// # Errors
    ///
    /// [`ControlError`] when there is no config dir, the choice cannot be
    /// written, or a spool file cannot be deleted.
    pub fn disable(&self) -> Result<(), ControlError> {
        let dir = self.dir()?;
        choice::disable(dir).map_err(ControlError::Choice)?;
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
            | ControlError::SpoolLeft { .. } => None,
        }
    }
}
