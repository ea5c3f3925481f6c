//! The user's controls: what decided on or off for one app, and the
//! `telemetry status | enable | disable | reset-id` commands built on it.
//!
//! [`Controls`] is resolved from a builder's settings without building a
//! client: it reads the environment and, only when no variable decided,
//! the remembered choice in the config dir. It writes nothing, opens no
//! socket and starts no thread, so an app runs its `telemetry` subcommand
//! on it ([`TelemetryBuilder::controls`](crate::TelemetryBuilder::controls))
//! and records nothing. Every built client keeps its own, on or off
//! ([`Telemetry::controls`](crate::Telemetry::controls)).

use crate::consent::precedence::{self, Decision, Mode, Rule};
use crate::consent::reason::OffReason;
use crate::consent::status::Status;
use crate::delivery::spool;
use crate::delivery::Delivery;
use crate::env::{self, app_enabled_variable, SwitchValue};
use crate::files::choice::{self, Choice, ChoiceError, ChoiceNote};
use crate::files::identity::{self, ConfigDirRefused, NoConfigDir, NOTICE_MARKER_FILE};
use crate::settings::{check_app_name, ConfigDir, Settings};
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
    decision: Decision,
    config_dir: Option<PathBuf>,
    /// The endpoint records would go to; `None` with a custom sink.
    endpoint: Option<String>,
    /// The delivery mode asked for.
    delivery: Delivery,
    /// Root acting for another user: nothing is written in the config dir.
    elevated: bool,
    /// Why a remembered choice was there but not read.
    note: Option<ChoiceNote>,
}

impl Controls {
    /// Decides from the settings: the variables first, then (only when no
    /// variable decided) the remembered choice. Reads, never writes.
    pub(crate) fn resolve(settings: &Settings) -> Controls {
        let env = &settings.env;
        let app = &settings.app;
        // Root acting for another user (`sudo -E`) writes nothing in the
        // config dir, as the recorder does: nothing of root's lands there.
        let elevated =
            identity::elevated_for_another_user(env.home().as_deref(), env.sudo_uid_set());
        let config_dir = match &settings.config_dir {
            // An invalid app name must not name a path.
            ConfigDir::Default if check_app_name(app).is_ok() => env.default_config_dir(app),
            ConfigDir::Default | ConfigDir::InMemory => None,
            ConfigDir::At(dir) => Some(dir.clone()),
        };
        let env_endpoint = env.endpoint(app);
        let has_destination = settings.sink.is_some()
            || settings.endpoint.is_some()
            || !matches!(env_endpoint, Ok(None));
        let endpoint = match (&settings.sink, env_endpoint) {
            (None, Ok(from_env)) => from_env.or_else(|| settings.endpoint.clone()),
            (Some(_), _) | (None, Err(_)) => None,
        };
        let decide = |remembered| {
            precedence::decide(
                env.var(env::DO_NOT_TRACK).as_deref(),
                env.var(&app_enabled_variable(app)).as_deref(),
                env.var(env::TELEMETRY_ENABLED).as_deref(),
                remembered,
                has_destination,
            )
        };
        let mut decision = decide(Choice::None);
        let mut note = None;
        // The choice file is read only when no variable decided.
        if matches!(decision.rule, Rule::Default | Rule::NoEndpoint) {
            if let Some(dir) = &config_dir {
                let (choice, why) = choice::read(dir);
                note = why;
                decision = decide(choice);
            }
        }
        Controls {
            app: app.clone(),
            decision,
            config_dir,
            endpoint,
            delivery: settings.delivery,
            elevated,
            note,
        }
    }

    /// The controls of a client made by
    /// [`Telemetry::disabled`](crate::Telemetry::disabled).
    pub(crate) const fn disabled_in_code() -> Controls {
        Controls {
            app: String::new(),
            decision: Decision {
                mode: Mode::Off,
                rule: Rule::DisabledInCode,
                value: None,
            },
            config_dir: None,
            endpoint: None,
            delivery: Delivery::Inline,
            elevated: false,
            note: None,
        }
    }

    /// Records that the client could not be built after the decision said
    /// on or log-only: a setting it cannot use (app name, endpoint, key).
    pub(crate) fn turned_off_by_setting(&mut self) {
        if self.decision.mode != Mode::Off {
            self.decision = Decision {
                mode: Mode::Off,
                rule: Rule::InvalidSetting,
                value: None,
            };
        }
    }

    /// Why the decision is off, as the client reports it; `None` when on or
    /// log-only.
    pub(crate) fn off_reason(&self) -> Option<OffReason> {
        let Decision { mode, rule, value } = self.decision;
        if mode != Mode::Off {
            return None;
        }
        let unrecognised = value == Some(SwitchValue::Unrecognised);
        Some(match rule {
            Rule::DoNotTrack => OffReason::DoNotTrack,
            Rule::AppVariable => {
                let variable = app_enabled_variable(&self.app);
                if unrecognised {
                    OffReason::AppEnabledUnrecognised { variable }
                } else {
                    OffReason::AppEnabledIsFalse { variable }
                }
            }
            Rule::TelemetryEnabled if unrecognised => OffReason::EnabledUnrecognised,
            Rule::TelemetryEnabled => OffReason::EnabledIsFalse,
            Rule::RememberedChoice => OffReason::DisabledByChoice,
            Rule::DisabledInCode => OffReason::DisabledInCode,
            Rule::NoEndpoint | Rule::Default | Rule::InvalidSetting => OffReason::NoDestination,
        })
    }

    /// The note for the debug log when a remembered choice was there but
    /// could not count (corrupt, a link, not ours).
    pub(crate) fn choice_note(&self) -> Option<ChoiceNote> {
        self.note
    }

    /// The decision: on, off or log-only, and which rule decided.
    #[must_use]
    pub fn decision(&self) -> Decision {
        self.decision
    }

    /// The config dir, where the anonymous id, the notice marker and the
    /// remembered choice live; `None` when there is none (no `HOME`, an
    /// isolated client).
    #[must_use]
    pub fn config_dir(&self) -> Option<&Path> {
        self.config_dir.as_deref()
    }

    /// `telemetry status`: print it (`Display`) or its JSON
    /// ([`Status::to_json`]). Reads whether the notice marker exists;
    /// writes nothing.
    #[must_use]
    pub fn status(&self) -> Status {
        let notice_shown = self
            .config_dir
            .as_ref()
            .is_some_and(|dir| std::fs::symlink_metadata(dir.join(NOTICE_MARKER_FILE)).is_ok());
        let mut status = Status::new(
            self.decision,
            &self.app,
            self.config_dir.as_deref(),
            self.endpoint.as_deref(),
            match self.delivery {
                Delivery::Background => "background",
                _ => "inline",
            },
            notice_shown,
        );
        // The back-off in force: one more thing the user may wonder about.
        status.wait_until_ms = self
            .config_dir
            .as_deref()
            .and_then(crate::delivery::backoff::saved_wait);
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
        let (_, problems) = spool::delete_all(dir);
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
        let dir = self
            .config_dir
            .as_deref()
            .ok_or(ControlError::NoConfigDir)?;
        if self.elevated {
            return Err(ControlError::NoConfigDir);
        }
        match identity::open_config_dir(Some(dir), None, false) {
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
