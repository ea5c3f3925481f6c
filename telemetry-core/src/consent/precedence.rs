//! The on/off decision as one pure function: which setting wins, first
//! match first.
//!
//! 1. `DO_NOT_TRACK`: a true value (`1`, `true`, `yes`, `on`) or any value
//!    that is neither true nor false → off.
//! 2. `<APP>_TELEMETRY_ENABLED` (the app's own, see
//!    [`app_env_prefix`](crate::app_env_prefix)).
//! 3. `TELEMETRY_ENABLED`. For both: a false value → off; `log` → log-only
//!    (print each record, send nothing); a true value → on; unset or blank
//!    → the next rule; anything else → off (fail closed, with a warning).
//! 4. The remembered choice (`telemetry enable` / `telemetry disable`).
//! 5. The default: on.
//!
//! `errors` (either variable) is on at the `errors` level, as is the
//! choice `telemetry enable --errors-only`.
//!
//! Over these rules, [`Limits`] can only restrict ([`decide_within`]):
//!
//! - a machine policy at `off` (or one that cannot be trusted) → off,
//!   decided by `machine_policy`, whatever the rules above say;
//! - the app's CI policy `skip`, in CI → off (log-only mode, which sends
//!   nothing, stays), decided by `ci_policy`;
//! - the level is the most restrictive of the rule's, the app's and the
//!   machine policy's; when the policy lowered it, `machine_policy`
//!   decided.
//!
//! Then, when the result is *on* and there is nothing to send to (no
//! endpoint, no sink) → off, decided by "no endpoint". Log-only mode needs
//! no destination: it sends nothing.
//!
//! Values are compared trimmed and without regard to ASCII case.

use super::level::Level;
use crate::env::{read_enabled, read_switch, Switch, SwitchValue};
use crate::files::choice::Choice;
use serde::Serialize;
use std::ffi::OsStr;

/// What telemetry does in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Mode {
    /// Records are sent.
    On,
    /// Nothing is recorded, written or sent.
    Off,
    /// Each record is printed on stderr (`[telemetry]` prefix), nothing is
    /// sent and no socket is opened.
    Log,
}

/// The setting that decided the [`Mode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rule {
    /// A machine policy file: its level is `off`, or it cannot be trusted
    /// (unreadable, not root's, writable by others, malformed); or it
    /// lowered the level.
    MachinePolicy,
    /// The app's CI policy (`CiPolicy::Skip`): nothing is sent in CI.
    CiPolicy,
    /// `DO_NOT_TRACK`.
    DoNotTrack,
    /// The app's own `<APP>_TELEMETRY_ENABLED`.
    AppVariable,
    /// `TELEMETRY_ENABLED`.
    TelemetryEnabled,
    /// The choice remembered by `telemetry enable` / `telemetry disable`.
    RememberedChoice,
    /// Nothing was set: the default, on.
    Default,
    /// It would be on, but there is no endpoint or sink to send to.
    NoEndpoint,
    /// It would be on, but a setting the HTTP sink cannot use: the user
    /// agent or the API key cannot be a header, a proxy variable names no
    /// usable proxy, or this build has no HTTP sink.
    InvalidSetting,
    /// The app made the client disabled in code.
    DisabledInCode,
    /// A veto: the app name cannot name a config dir or a `source`.
    InvalidAppName,
    /// A veto: the endpoint (the app's, or an endpoint variable's) is not an
    /// `http` or `https` URL with a host and without credentials.
    InvalidEndpoint,
    /// A veto: the remembered choice's file cannot be trusted (a link,
    /// another user's, writable by others, not a regular file, unreadable,
    /// empty or unknown content). Off whatever the variables say.
    UntrustedChoiceFile,
    /// A veto: the config dir is a symbolic link, another user's, or
    /// writable by other users.
    ConfigDirRefused,
    /// A veto: the anonymous id's file is a symbolic link, another user's,
    /// or writable by other users.
    IdFileRefused,
    /// A veto: the notice marker is a symbolic link, another user's, or
    /// writable by other users.
    NoticeMarkerRefused,
    /// A veto: there is no usable config dir (none is set, it cannot be
    /// created, or it is not writable) to remember that the first-run
    /// notice was shown: no notice is shown that cannot be remembered.
    NoConfigDir,
    /// A veto: the process runs as root on behalf of another user (`sudo`),
    /// so nothing is written in that user's config dir, and the notice
    /// could not be remembered.
    RootForAnotherUser,
}

impl Rule {
    /// The rule's name as in the JSON status (`do_not_track`, ...).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::MachinePolicy => "machine_policy",
            Rule::CiPolicy => "ci_policy",
            Rule::DoNotTrack => "do_not_track",
            Rule::AppVariable => "app_variable",
            Rule::TelemetryEnabled => "telemetry_enabled",
            Rule::RememberedChoice => "remembered_choice",
            Rule::Default => "default",
            Rule::NoEndpoint => "no_endpoint",
            Rule::InvalidSetting => "invalid_setting",
            Rule::DisabledInCode => "disabled_in_code",
            Rule::InvalidAppName => "invalid_app_name",
            Rule::InvalidEndpoint => "invalid_endpoint",
            Rule::UntrustedChoiceFile => "untrusted_choice_file",
            Rule::ConfigDirRefused => "config_dir_refused",
            Rule::IdFileRefused => "id_file_refused",
            Rule::NoticeMarkerRefused => "notice_marker_refused",
            Rule::NoConfigDir => "no_config_dir",
            Rule::RootForAnotherUser => "root_for_another_user",
        }
    }
}

display_as_str!(Rule);

/// The outcome: the mode, the rule that decided it, the deciding
/// variable's value when a variable decided, and the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Decision {
    /// On, off, or log-only.
    pub mode: Mode,
    /// The first rule that matched.
    pub rule: Rule,
    /// The deciding variable's value (`DoNotTrack`, `AppVariable`,
    /// `TelemetryEnabled` only).
    pub value: Option<SwitchValue>,
    /// How much is recorded and sent: [`Level::Off`] when the mode is off.
    pub level: Level,
}

impl Decision {
    /// Whether a variable asked for something this crate does not know,
    /// so that the caller prints its one warning line.
    #[must_use]
    pub fn is_unrecognised_enabled(&self) -> bool {
        matches!(self.rule, Rule::AppVariable | Rule::TelemetryEnabled)
            && self.value == Some(SwitchValue::Unrecognised)
    }
}

/// What restricts the rules: a machine policy, the app's own level, its
/// CI policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The machine policy's level (`Off` also for a policy file that
    /// cannot be trusted); `None`: no policy file.
    pub(crate) policy: Option<Level>,
    /// The app's own level (the builder's `level`).
    pub(crate) app: Level,
    /// In CI, and the app's CI policy is `Skip`.
    pub(crate) skip_in_ci: bool,
}

#[cfg(test)]
impl Limits {
    /// Nothing restricts.
    pub(crate) const NONE: Limits = Limits {
        policy: None,
        app: Level::All,
        skip_in_ci: false,
    };
}

/// What the rules read: the variables' values, the remembered choice, and
/// whether an endpoint or a sink is configured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inputs<'a> {
    /// `DO_NOT_TRACK`'s value.
    pub(crate) do_not_track: Option<&'a OsStr>,
    /// `<APP>_TELEMETRY_ENABLED`'s value.
    pub(crate) app_enabled: Option<&'a OsStr>,
    /// `TELEMETRY_ENABLED`'s value.
    pub(crate) telemetry_enabled: Option<&'a OsStr>,
    /// The choice `telemetry enable` / `telemetry disable` remembered.
    pub(crate) remembered: Choice,
    /// Whether there is somewhere to send to (an endpoint or a sink).
    pub(crate) has_destination: bool,
}

/// Applies the rules above, without limits.
#[cfg(test)]
pub(crate) fn decide(inputs: Inputs<'_>) -> Decision {
    decide_within(inputs, Limits::NONE)
}

/// Applies the rules above within `limits`.
pub(crate) fn decide_within(inputs: Inputs<'_>, limits: Limits) -> Decision {
    let off = |rule| Decision {
        mode: Mode::Off,
        rule,
        value: None,
        level: Level::Off,
    };
    if limits.policy == Some(Level::Off) {
        return off(Rule::MachinePolicy);
    }
    let mut decision = first_rule(&inputs);
    if decision.mode == Mode::Off {
        return decision;
    }
    if limits.skip_in_ci && decision.mode == Mode::On {
        return off(Rule::CiPolicy);
    }
    let unlimited = decision.level.min(limits.app);
    decision.level = unlimited.min(limits.policy.unwrap_or(Level::All));
    if decision.level < unlimited && decision.mode == Mode::On {
        decision.rule = Rule::MachinePolicy;
        decision.value = None;
    }
    if decision.mode == Mode::On && !inputs.has_destination {
        return off(Rule::NoEndpoint);
    }
    decision
}

fn first_rule(inputs: &Inputs<'_>) -> Decision {
    let decided = |mode, rule, value| Decision {
        mode,
        rule,
        value,
        level: match mode {
            Mode::Off => Level::Off,
            Mode::On | Mode::Log => Level::All,
        },
    };
    match read_switch(inputs.do_not_track) {
        Switch::On => return decided(Mode::Off, Rule::DoNotTrack, Some(SwitchValue::True)),
        Switch::Unrecognised => {
            return decided(Mode::Off, Rule::DoNotTrack, Some(SwitchValue::Unrecognised))
        }
        Switch::Off | Switch::Unset => {}
    }
    for (value, rule) in [
        (inputs.app_enabled, Rule::AppVariable),
        (inputs.telemetry_enabled, Rule::TelemetryEnabled),
    ] {
        if let Some(value) = read_enabled(value) {
            let mode = match value {
                SwitchValue::True | SwitchValue::Errors | SwitchValue::Local => Mode::On,
                SwitchValue::Log => Mode::Log,
                SwitchValue::False | SwitchValue::Unrecognised => Mode::Off,
            };
            let mut decision = decided(mode, rule, Some(value));
            if value == SwitchValue::Errors {
                decision.level = Level::Errors;
            }
            if value == SwitchValue::Local {
                decision.level = Level::Local;
            }
            return decision;
        }
    }
    match inputs.remembered {
        Choice::Enabled => decided(Mode::On, Rule::RememberedChoice, None),
        Choice::ErrorsOnly => Decision {
            level: Level::Errors,
            ..decided(Mode::On, Rule::RememberedChoice, None)
        },
        Choice::LocalOnly => Decision {
            level: Level::Local,
            ..decided(Mode::On, Rule::RememberedChoice, None)
        },
        Choice::Disabled => decided(Mode::Off, Rule::RememberedChoice, None),
        Choice::None => decided(Mode::On, Rule::Default, None),
    }
}

#[cfg(test)]
#[path = "precedence_tests.rs"]
mod tests;
