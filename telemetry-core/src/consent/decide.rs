//! The one decision: on, off or log-only for this app, and which rule
//! decided. [`decide`] makes all of it from the settings, reading and never
//! writing: `telemetry status` ([`Controls`](crate::Controls)) and the
//! recorder both call it, so what `status` says is what a built client does.
//!
//! First the rules of precedence ([`precedence`]): the
//! variables, then the remembered choice, then the default, within the
//! limits that can only restrict: the machine policy files
//! ([`machine_policy`]), the app's level and, in
//! CI, the app's [`CiPolicy`]. A decision that is not off then meets the
//! vetoes, first match first, each its own [`Rule`]:
//!
//! 1. the app name cannot name a config dir or a `source`;
//! 2. the config dir is a link, another user's or writable by others;
//! 3. the remembered choice's file cannot be trusted: off whatever the
//!    variables say (the opt-out fails closed);
//! 4. (on only) the endpoint is not an `http`/`https` URL with a host, or
//!    another setting the HTTP sink needs cannot be used; the checks are
//!    the sink's own, made without building a client;
//! 5. the id file is a link, another user's or writable by others;
//! 6. (on, with the first-run notice to show) the notice must be
//!    remembered: root acting for another user, no usable config dir (none
//!    set, cannot be created, not writable) or a refused notice marker turn
//!    telemetry off, rather than show a notice on every run and send
//!    nothing. With the notice off (`notice(false)`,
//!    `TELEMETRY_HIDE_BANNER`), a run without a usable config dir goes on
//!    with an id for this process only.
//!
//! A notice marker dated later than now counts as seen (a clock stepped
//! back, files copied from a machine whose clock ran ahead); one that keeps
//! an older notice version than the app's does not.
//!
//! In CI with [`CiPolicy::Anonymous`] nothing is written under the config
//! dir (the id lives in memory, no notice is shown), so vetoes 5 and 6 do
//! not apply: the run is *ephemeral* ([`Verdict::ephemeral`]).

use super::app_consent::AppConsent;
use super::ci_policy::CiPolicy;
use super::level::Level;
use super::machine_policy::{self, Policy};
use super::precedence::{self, Decision, Limits, Mode, Rule};
use super::reason::OffReason;
use crate::delivery::backoff;
use crate::env::{self, app_enabled_variable};
use crate::files::choice::{self, Choice, ChoiceNote, CHOICE_FILE};
use crate::files::config_dir::{self, ConfigDirRefused, ConfigItem, DirState, NoConfigDir};
use crate::files::notice_marker::{self, NOTICE_MARKER_FILE};
use crate::files::user_id::{self, USER_UUID_FILE};
use crate::files::Refusal;
use crate::settings::{is_valid_app_name, ConfigDir, Settings};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Where records would go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    /// The sink the app gave.
    Sink,
    /// An endpoint, with the variable that set it (`None`: the app's own).
    Endpoint {
        url: String,
        variable: Option<String>,
    },
    /// Nothing to send to.
    Nowhere,
}

/// Why a decision that was not off became off: one veto, with what it
/// names (the path, the variable) for `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Veto {
    /// The app name cannot name a config dir or a `source`.
    AppName,
    /// An endpoint variable's value is not UTF-8.
    EndpointNotUtf8 { variable: String },
    /// The endpoint is not an `http`/`https` URL with a host and without
    /// credentials: why, and the variable that set it (`None`: the app).
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    Endpoint {
        variable: Option<String>,
        problem: String,
    },
    /// An endpoint is set, but this build has no HTTP sink.
    #[cfg_attr(feature = "http", allow(dead_code))]
    NoHttpSupport,
    /// The HTTP sink cannot use another setting (user agent, key, proxy).
    Setting(String),
    /// The remembered choice's file cannot be trusted.
    ChoiceFile { path: PathBuf, note: ChoiceNote },
    /// The config dir, the id file or the notice marker is refused.
    Refused {
        item: ConfigItem,
        path: PathBuf,
        why: Refusal,
    },
    /// No usable config dir to remember the notice in.
    NoConfigDir {
        path: Option<PathBuf>,
        why: NoConfigDir,
    },
    /// Root acting for another user: nothing is written in their dir.
    RootForAnotherUser,
}

impl Veto {
    /// The rule `status` reports for this veto.
    pub(crate) fn rule(&self) -> Rule {
        match self {
            Veto::AppName => Rule::InvalidAppName,
            Veto::EndpointNotUtf8 { .. } | Veto::Endpoint { .. } => Rule::InvalidEndpoint,
            Veto::NoHttpSupport | Veto::Setting(_) => Rule::InvalidSetting,
            Veto::ChoiceFile { .. } => Rule::UntrustedChoiceFile,
            Veto::Refused { item, .. } => match item {
                ConfigItem::Dir => Rule::ConfigDirRefused,
                ConfigItem::UserUuid => Rule::IdFileRefused,
                ConfigItem::NoticeMarker => Rule::NoticeMarkerRefused,
            },
            Veto::NoConfigDir { .. } => Rule::NoConfigDir,
            Veto::RootForAnotherUser => Rule::RootForAnotherUser,
        }
    }

    /// The reason a client built from these settings reports (its debug
    /// line names no path).
    pub(crate) fn off_reason(&self) -> OffReason {
        match self {
            Veto::AppName => OffReason::InvalidAppName,
            Veto::EndpointNotUtf8 { variable } => OffReason::EndpointNotUtf8 {
                variable: variable.clone(),
            },
            #[cfg(feature = "http")]
            Veto::Endpoint { problem, .. } => {
                OffReason::InvalidSetting(crate::InvalidSetting(problem.clone()))
            }
            #[cfg(feature = "http")]
            Veto::Setting(problem) => {
                OffReason::InvalidSetting(crate::InvalidSetting(problem.clone()))
            }
            #[cfg(not(feature = "http"))]
            Veto::Endpoint { .. } | Veto::Setting(_) => OffReason::NoHttpSupport,
            Veto::NoHttpSupport => OffReason::NoHttpSupport,
            Veto::ChoiceFile { note, .. } => OffReason::UntrustedChoice(*note),
            Veto::Refused { item, why, .. } => OffReason::ConfigDirRefused(ConfigDirRefused {
                item: *item,
                why: *why,
            }),
            Veto::NoConfigDir { .. } => OffReason::NoConfigDir,
            Veto::RootForAnotherUser => OffReason::RootForAnotherUser,
        }
    }
}

/// The whole decision for one app, and what `status` shows beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// On, off or log-only, and the rule that decided.
    pub(crate) decision: Decision,
    /// The veto that turned it off, when one did.
    pub(crate) veto: Option<Veto>,
    /// The config dir's path (checked or not).
    pub(crate) config_dir: Option<PathBuf>,
    /// Where records would go.
    pub(crate) destination: Destination,
    /// Root acting for another user: nothing is written in the config dir.
    pub(crate) elevated: bool,
    /// While the collector of this endpoint asked to wait (the back-off
    /// file in the config dir): until when, epoch ms.
    pub(crate) wait_until_ms: Option<u64>,
    /// What the machine policy files say, and which file.
    pub(crate) policy: Policy,
    /// The app's CI policy, when the run is in CI.
    pub(crate) ci: Option<CiPolicy>,
    /// In CI with [`CiPolicy::Anonymous`], and not off: nothing is written
    /// under the config dir, the id is this process's, no notice is shown.
    pub(crate) ephemeral: bool,
}

impl Verdict {
    /// The verdict of a client made disabled in code.
    pub(crate) const fn disabled_in_code() -> Verdict {
        Verdict {
            decision: Decision {
                mode: Mode::Off,
                rule: Rule::DisabledInCode,
                value: None,
                level: Level::Off,
            },
            veto: None,
            config_dir: None,
            destination: Destination::Nowhere,
            elevated: false,
            wait_until_ms: None,
            policy: Policy::None,
            ci: None,
            ephemeral: false,
        }
    }

    /// The same verdict, turned off by `veto`.
    pub(crate) fn vetoed(mut self, veto: Veto) -> Verdict {
        self.decision = Decision {
            mode: Mode::Off,
            rule: veto.rule(),
            value: None,
            level: Level::Off,
        };
        self.veto = Some(veto);
        self.ephemeral = false;
        self
    }

    /// The endpoint records go to (`None` with a sink, with none, or when
    /// the endpoint was refused).
    pub(crate) fn endpoint(&self) -> Option<&str> {
        match (&self.destination, &self.veto) {
            (Destination::Endpoint { .. }, Some(Veto::Endpoint { .. })) => None,
            (Destination::Endpoint { url, .. }, _) => Some(url),
            _ => None,
        }
    }

    /// The endpoint as set, refused or not (for `status` to show).
    pub(crate) fn destination_url(&self) -> Option<&str> {
        match &self.destination {
            Destination::Endpoint { url, .. } => Some(url),
            _ => None,
        }
    }

    /// Why the decision is off, as the client reports it; `None` when on or
    /// log-only.
    pub(crate) fn off_reason(&self, app: &str) -> Option<OffReason> {
        let Decision {
            mode, rule, value, ..
        } = self.decision;
        if mode != Mode::Off {
            return None;
        }
        if let Some(veto) = &self.veto {
            return Some(veto.off_reason());
        }
        let unrecognised = value == Some(env::SwitchValue::Unrecognised);
        Some(match rule {
            Rule::DoNotTrack => OffReason::DoNotTrack,
            Rule::AppVariable => {
                let variable = app_enabled_variable(app);
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
            Rule::MachinePolicy => OffReason::MachinePolicy,
            Rule::CiPolicy => OffReason::SkippedInCi,
            _ => OffReason::NoDestination,
        })
    }
}

/// Decides on, off or log-only for these settings, vetoes included. Reads
/// the environment and looks at the config dir; creates, writes and opens
/// nothing else.
pub(crate) fn decide(settings: &Settings, consent: &AppConsent) -> Verdict {
    let env = &settings.env;
    let app = &settings.app;
    let app_ok = is_valid_app_name(app);
    // Root acting for another user (`sudo -E`) looks at nothing in the
    // config dir and writes nothing there.
    let elevated = config_dir::elevated_for_another_user(env.home().as_deref(), env.sudo_uid_set());
    let config_dir = match &settings.config_dir {
        // An invalid app name must not name a path.
        ConfigDir::Default if app_ok => env.default_config_dir(app),
        ConfigDir::Default | ConfigDir::InMemory => None,
        ConfigDir::At(dir) => Some(dir.clone()),
    };
    let dir_state = config_dir
        .as_deref()
        .filter(|_| !elevated)
        .map(config_dir::inspect_config_dir);
    let ours = matches!(dir_state, Some(Ok(DirState::Ours { .. })));
    let (remembered, choice_veto) = match &config_dir {
        Some(dir) if ours => match choice::read(dir) {
            Ok(choice) => (choice, None),
            Err(note) => (
                Choice::None,
                Some(Veto::ChoiceFile {
                    path: dir.join(CHOICE_FILE),
                    note,
                }),
            ),
        },
        _ => (Choice::None, None),
    };
    let (destination, destination_veto) = destination(settings);
    let policy = machine_policy::read(&consent.policy_dirs, app, app_ok);
    let ci = env.is_ci().then_some(consent.ci_policy);
    let limits = Limits {
        policy: policy.level(),
        app: consent.level,
        skip_in_ci: ci == Some(CiPolicy::Skip),
    };
    let (do_not_track, app_enabled, telemetry_enabled) = (
        env.var(env::DO_NOT_TRACK),
        env.var(&app_enabled_variable(app)),
        env.var(env::TELEMETRY_ENABLED),
    );
    let inputs = precedence::Inputs {
        do_not_track: do_not_track.as_deref(),
        app_enabled: app_enabled.as_deref(),
        telemetry_enabled: telemetry_enabled.as_deref(),
        remembered,
        has_destination: destination != Destination::Nowhere || destination_veto.is_some(),
    };
    let decision = precedence::decide_within(inputs, limits);
    let ephemeral = ci == Some(CiPolicy::Anonymous) && decision.mode != Mode::Off;
    // Read only from a dir of ours: looking creates nothing.
    let wait_until_ms = match (&config_dir, &destination) {
        (Some(dir), Destination::Endpoint { url, .. }) if ours => backoff::saved_wait(dir, url),
        _ => None,
    };
    let verdict = Verdict {
        decision,
        veto: None,
        config_dir,
        destination,
        elevated,
        wait_until_ms,
        policy,
        ci,
        ephemeral,
    };
    if decision.mode == Mode::Off {
        return verdict;
    }
    let veto = (!app_ok)
        .then_some(Veto::AppName)
        .or_else(|| refused_dir(verdict.config_dir.as_deref(), dir_state))
        .or(choice_veto)
        .or_else(|| destination_veto.filter(|_| decision.mode == Mode::On))
        .or_else(|| {
            // An ephemeral run writes and uses nothing in the config dir.
            (!ephemeral)
                .then(|| refused_id_file(verdict.config_dir.as_deref(), ours))
                .flatten()
        })
        .or_else(|| {
            (!ephemeral)
                .then(|| notice_veto(settings, consent, &verdict, dir_state))
                .flatten()
        });
    match veto {
        Some(veto) => verdict.vetoed(veto),
        None => verdict,
    }
}

/// Veto 2: the config dir itself is refused.
fn refused_dir(dir: Option<&Path>, state: Option<Result<DirState, NoConfigDir>>) -> Option<Veto> {
    match (dir, state) {
        (Some(dir), Some(Err(NoConfigDir::Refused(refused)))) => Some(Veto::Refused {
            item: refused.item,
            path: dir.to_owned(),
            why: refused.why,
        }),
        _ => None,
    }
}

/// Veto 5: the id file in a dir of ours is refused.
fn refused_id_file(dir: Option<&Path>, ours: bool) -> Option<Veto> {
    let dir = dir.filter(|_| ours)?;
    let why = user_id::inspect(dir).err()?;
    Some(Veto::Refused {
        item: ConfigItem::UserUuid,
        path: dir.join(USER_UUID_FILE),
        why,
    })
}

/// Veto 6: a run that would show the first-run notice must be able to
/// remember that it did.
fn notice_veto(
    settings: &Settings,
    consent: &AppConsent,
    verdict: &Verdict,
    state: Option<Result<DirState, NoConfigDir>>,
) -> Option<Veto> {
    let shows_notice = verdict.decision.mode == Mode::On
        && settings.notice
        && !settings.env.hide_banner()
        && !matches!(settings.config_dir, ConfigDir::InMemory);
    if !shows_notice {
        return None;
    }
    if verdict.elevated {
        return Some(Veto::RootForAnotherUser);
    }
    let Some(dir) = verdict.config_dir.as_deref() else {
        return Some(Veto::NoConfigDir {
            path: None,
            why: NoConfigDir::Unset,
        });
    };
    let no_dir = |why| {
        Some(Veto::NoConfigDir {
            path: Some(dir.to_owned()),
            why,
        })
    };
    match state? {
        Err(why) => no_dir(why),
        Ok(DirState::Missing) => None,
        Ok(DirState::Ours { writable }) => {
            match notice_marker::inspect(dir, consent.notice_version) {
                Err(why) => Some(Veto::Refused {
                    item: ConfigItem::NoticeMarker,
                    path: dir.join(NOTICE_MARKER_FILE),
                    why,
                }),
                Ok(seen) if seen || writable => None,
                Ok(_) => no_dir(NoConfigDir::Unusable(ErrorKind::PermissionDenied)),
            }
        }
    }
}

/// Where records would go, and the veto of an endpoint that cannot be
/// used: the sink given; else `<APP>_TELEMETRY_ENDPOINT`,
/// `TELEMETRY_ENDPOINT` or the endpoint set in code.
fn destination(settings: &Settings) -> (Destination, Option<Veto>) {
    if settings.sink.is_some() {
        return (Destination::Sink, None);
    }
    let (url, variable) = match settings.env.endpoint(&settings.app) {
        Err(variable) => {
            return (
                Destination::Nowhere,
                Some(Veto::EndpointNotUtf8 { variable }),
            )
        }
        Ok(Some((variable, url))) => (url, Some(variable)),
        Ok(None) => match &settings.endpoint {
            Some(url) => (url.clone(), None),
            None => return (Destination::Nowhere, None),
        },
    };
    let veto = endpoint_veto(settings, &url, variable.as_deref());
    (Destination::Endpoint { url, variable }, veto)
}

/// The HTTP sink's own checks of the endpoint and the other settings,
/// without building a client.
#[cfg(feature = "http")]
fn endpoint_veto(settings: &Settings, url: &str, variable: Option<&str>) -> Option<Veto> {
    if let Err(problem) = settings.export.check_endpoint(url) {
        return Some(Veto::Endpoint {
            variable: variable.map(str::to_owned),
            problem: problem.to_string(),
        });
    }
    let checked = settings.export.check(
        url,
        &settings.user_agent(),
        settings.api_key_for(variable.is_some()),
        &settings.env,
    );
    checked
        .err()
        .map(|invalid| Veto::Setting(invalid.to_string()))
}

#[cfg(not(feature = "http"))]
fn endpoint_veto(_settings: &Settings, _url: &str, _variable: Option<&str>) -> Option<Veto> {
    Some(Veto::NoHttpSupport)
}
