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
use std::fmt;

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

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// Applies the rules above, without limits. `app_enabled` is
/// `<APP>_TELEMETRY_ENABLED`'s value, `has_destination` whether an
/// endpoint or a sink is configured.
#[cfg(test)]
pub(crate) fn decide(
    do_not_track: Option<&OsStr>,
    app_enabled: Option<&OsStr>,
    telemetry_enabled: Option<&OsStr>,
    remembered: Choice,
    has_destination: bool,
) -> Decision {
    decide_within(
        do_not_track,
        app_enabled,
        telemetry_enabled,
        remembered,
        has_destination,
        Limits::NONE,
    )
}

/// Applies the rules above within `limits`.
pub(crate) fn decide_within(
    do_not_track: Option<&OsStr>,
    app_enabled: Option<&OsStr>,
    telemetry_enabled: Option<&OsStr>,
    remembered: Choice,
    has_destination: bool,
    limits: Limits,
) -> Decision {
    let off = |rule| Decision {
        mode: Mode::Off,
        rule,
        value: None,
        level: Level::Off,
    };
    if limits.policy == Some(Level::Off) {
        return off(Rule::MachinePolicy);
    }
    let mut decision = first_rule(do_not_track, app_enabled, telemetry_enabled, remembered);
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
    if decision.mode == Mode::On && !has_destination {
        return off(Rule::NoEndpoint);
    }
    decision
}

fn first_rule(
    do_not_track: Option<&OsStr>,
    app_enabled: Option<&OsStr>,
    telemetry_enabled: Option<&OsStr>,
    remembered: Choice,
) -> Decision {
    let decided = |mode, rule, value| Decision {
        mode,
        rule,
        value,
        level: match mode {
            Mode::Off => Level::Off,
            Mode::On | Mode::Log => Level::All,
        },
    };
    match read_switch(do_not_track) {
        Switch::On => return decided(Mode::Off, Rule::DoNotTrack, Some(SwitchValue::True)),
        Switch::Unrecognised => {
            return decided(Mode::Off, Rule::DoNotTrack, Some(SwitchValue::Unrecognised))
        }
        Switch::Off | Switch::Unset => {}
    }
    for (value, rule) in [
        (app_enabled, Rule::AppVariable),
        (telemetry_enabled, Rule::TelemetryEnabled),
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
    match remembered {
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
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::ffi::OsString;

    fn is_true(s: &str) -> bool {
        ["1", "true", "yes", "on"].contains(&s)
    }

    fn is_false(s: &str) -> bool {
        ["0", "false", "no", "off"].contains(&s)
    }

    fn word(s: &str) -> &'static str {
        if is_true(s) {
            "true"
        } else if is_false(s) {
            "false"
        } else if s == "log" {
            "log"
        } else if s == "errors" {
            "errors"
        } else if s == "local" {
            "local"
        } else {
            "unrecognised"
        }
    }

    type Outcome = (Mode, Rule, Option<&'static str>, Level);

    /// The rules written out as a list, tried in order, then the limits:
    /// the reference the implementation must agree with.
    fn reference(
        dnt: Option<&str>,
        app: Option<&str>,
        generic: Option<&str>,
        remembered: Choice,
        has_destination: bool,
        limits: Limits,
    ) -> Outcome {
        let norm = |v: Option<&str>| {
            v.map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
        };
        let (dnt, app, generic) = (norm(dnt), norm(app), norm(generic));
        let switch = |value: &Option<String>, rule: Rule| {
            value.as_deref().map(|s| match word(s) {
                "true" => (Mode::On, rule, Some("true"), Level::All),
                "errors" => (Mode::On, rule, Some("errors"), Level::Errors),
                "local" => (Mode::On, rule, Some("local"), Level::Local),
                "log" => (Mode::Log, rule, Some("log"), Level::All),
                other => (Mode::Off, rule, Some(other), Level::Off),
            })
        };
        if limits.policy == Some(Level::Off) {
            return (Mode::Off, Rule::MachinePolicy, None, Level::Off);
        }
        let rules: [&dyn Fn() -> Option<Outcome>; 5] = [
            &|| {
                dnt.as_deref().filter(|s| !is_false(s)).map(|s| {
                    let seen = if is_true(s) { "true" } else { "unrecognised" };
                    (Mode::Off, Rule::DoNotTrack, Some(seen), Level::Off)
                })
            },
            &|| switch(&app, Rule::AppVariable),
            &|| switch(&generic, Rule::TelemetryEnabled),
            &|| match remembered {
                Choice::Enabled => Some((Mode::On, Rule::RememberedChoice, None, Level::All)),
                Choice::ErrorsOnly => Some((Mode::On, Rule::RememberedChoice, None, Level::Errors)),
                Choice::LocalOnly => Some((Mode::On, Rule::RememberedChoice, None, Level::Local)),
                Choice::Disabled => Some((Mode::Off, Rule::RememberedChoice, None, Level::Off)),
                Choice::None => None,
            },
            &|| Some((Mode::On, Rule::Default, None, Level::All)),
        ];
        let mut first = rules
            .iter()
            .find_map(|rule| rule())
            .expect("the default always matches");
        if first.0 == Mode::Off {
            return first;
        }
        if limits.skip_in_ci && first.0 == Mode::On {
            return (Mode::Off, Rule::CiPolicy, None, Level::Off);
        }
        let mut level = first.3;
        if limits.app < level {
            level = limits.app;
        }
        if let Some(policy) = limits.policy.filter(|policy| *policy < level) {
            level = policy;
            if first.0 == Mode::On {
                first.1 = Rule::MachinePolicy;
                first.2 = None;
            }
        }
        first.3 = level;
        if first.0 == Mode::On && !has_destination {
            (Mode::Off, Rule::NoEndpoint, None, Level::Off)
        } else {
            first
        }
    }

    fn check(
        dnt: Option<&str>,
        app: Option<&str>,
        generic: Option<&str>,
        remembered: Choice,
        dest: bool,
        limits: Limits,
    ) {
        let os = |v: Option<&str>| v.map(OsString::from);
        let (d, a, g) = (os(dnt), os(app), os(generic));
        let got = decide_within(
            d.as_deref(),
            a.as_deref(),
            g.as_deref(),
            remembered,
            dest,
            limits,
        );
        let want = reference(dnt, app, generic, remembered, dest, limits);
        assert_eq!(
            (got.mode, got.rule, got.value.map(SwitchValue::as_str), got.level),
            want,
            "DO_NOT_TRACK={dnt:?} APP={app:?} TELEMETRY_ENABLED={generic:?} {remembered:?} dest={dest} {limits:?}"
        );
    }

    const VALUES: [Option<&str>; 19] = [
        None,
        Some(""),
        Some("  "),
        Some("1"),
        Some("true"),
        Some(" YES "),
        Some("On"),
        Some("0"),
        Some("false"),
        Some("OFF"),
        Some("no"),
        Some("log"),
        Some(" LOG "),
        Some("maybe"),
        Some("2"),
        Some("logs"),
        Some("enabled"),
        Some("errors"),
        Some(" Errors "),
    ];
    const CHOICES: [Choice; 4] = [
        Choice::Enabled,
        Choice::ErrorsOnly,
        Choice::Disabled,
        Choice::None,
    ];
    const LEVELS: [Level; 4] = [Level::Off, Level::Local, Level::Errors, Level::All];

    fn limits() -> impl Iterator<Item = Limits> {
        let policies = [
            None,
            Some(Level::Off),
            Some(Level::Local),
            Some(Level::Errors),
            Some(Level::All),
        ];
        policies.into_iter().flat_map(|policy| {
            LEVELS.into_iter().flat_map(move |app| {
                [false, true].into_iter().map(move |skip_in_ci| Limits {
                    policy,
                    app,
                    skip_in_ci,
                })
            })
        })
    }

    #[test]
    fn every_combination_agrees_with_the_reference() {
        for dnt in VALUES {
            for app in VALUES {
                for generic in VALUES {
                    for remembered in CHOICES {
                        for dest in [true, false] {
                            check(dnt, app, generic, remembered, dest, Limits::NONE);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_limit_agrees_with_the_reference() {
        for limits in limits() {
            for value in [
                None,
                Some("1"),
                Some("0"),
                Some("log"),
                Some("errors"),
                Some("x"),
            ] {
                for remembered in CHOICES {
                    for dest in [true, false] {
                        check(None, value, None, remembered, dest, limits);
                        check(value, None, Some("true"), remembered, dest, limits);
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn arbitrary_values_agree_with_the_reference(
            dnt in proptest::option::of("[ a-zA-Z0-9]{0,6}"),
            app in proptest::option::of(prop_oneof!["[ a-zA-Z0-9]{0,6}", "(?i) ?(log|errors|local|true|false|on|off|yes|no|1|0) ?"]),
            generic in proptest::option::of(prop_oneof!["[ a-zA-Z0-9]{0,6}", "(?i) ?(log|errors|local|true|false|on|off|yes|no|1|0) ?"]),
            remembered in prop::sample::select(CHOICES.to_vec()),
            dest in any::<bool>(),
            limits in prop::sample::select(limits().collect::<Vec<_>>()),
        ) {
            check(dnt.as_deref(), app.as_deref(), generic.as_deref(), remembered, dest, limits);
        }
    }

    #[test]
    fn the_named_cases_of_the_issue() {
        let os = OsStr::new;
        // DO_NOT_TRACK=1 beats `enable`.
        let d = decide(Some(os("1")), None, None, Choice::Enabled, true);
        assert_eq!((d.mode, d.rule), (Mode::Off, Rule::DoNotTrack));
        // The app's own false beats TELEMETRY_ENABLED=true.
        let d = decide(
            None,
            Some(os("false")),
            Some(os("true")),
            Choice::None,
            true,
        );
        assert_eq!(
            (d.mode, d.rule, d.value),
            (Mode::Off, Rule::AppVariable, Some(SwitchValue::False))
        );
        // And the app's own true beats TELEMETRY_ENABLED=false.
        let d = decide(
            None,
            Some(os("true")),
            Some(os("false")),
            Choice::None,
            true,
        );
        assert_eq!((d.mode, d.rule), (Mode::On, Rule::AppVariable));
        // Log-only, generic and per-app; no destination needed.
        let d = decide(None, None, Some(os("log")), Choice::Disabled, false);
        assert_eq!(
            (d.mode, d.rule, d.value),
            (Mode::Log, Rule::TelemetryEnabled, Some(SwitchValue::Log))
        );
        let d = decide(None, Some(os("LOG")), Some(os("true")), Choice::None, true);
        assert_eq!(d.mode, Mode::Log);
        // The remembered choice, then the default, then "no endpoint".
        let d = decide(None, None, None, Choice::Disabled, true);
        assert_eq!((d.mode, d.rule), (Mode::Off, Rule::RememberedChoice));
        let d = decide(None, None, None, Choice::None, true);
        assert_eq!((d.mode, d.rule), (Mode::On, Rule::Default));
        let d = decide(None, None, Some(os("true")), Choice::None, false);
        assert_eq!(
            (d.mode, d.rule, d.value),
            (Mode::Off, Rule::NoEndpoint, None)
        );
        // `errors`, from a variable or the remembered choice.
        let d = decide(None, Some(os("errors")), None, Choice::Disabled, true);
        assert_eq!((d.mode, d.level), (Mode::On, Level::Errors));
        let d = decide(None, None, None, Choice::ErrorsOnly, true);
        assert_eq!(
            (d.mode, d.rule, d.level),
            (Mode::On, Rule::RememberedChoice, Level::Errors)
        );
        // A policy at `off` beats TELEMETRY_ENABLED=true and `enable`.
        let policy_off = Limits {
            policy: Some(Level::Off),
            ..Limits::NONE
        };
        let d = decide_within(
            None,
            None,
            Some(os("true")),
            Choice::Enabled,
            true,
            policy_off,
        );
        assert_eq!((d.mode, d.rule), (Mode::Off, Rule::MachinePolicy));
        // A policy at `errors` lowers `all`, and says so.
        let policy_errors = Limits {
            policy: Some(Level::Errors),
            ..Limits::NONE
        };
        let d = decide_within(
            None,
            None,
            Some(os("true")),
            Choice::None,
            true,
            policy_errors,
        );
        assert_eq!(
            (d.mode, d.rule, d.level),
            (Mode::On, Rule::MachinePolicy, Level::Errors)
        );
        // ... but never raises a stricter choice.
        let d = decide_within(
            None,
            None,
            None,
            Choice::ErrorsOnly,
            true,
            Limits {
                policy: Some(Level::All),
                ..Limits::NONE
            },
        );
        assert_eq!((d.rule, d.level), (Rule::RememberedChoice, Level::Errors));
        // An opt-out variable still wins in CI.
        let skip = Limits {
            skip_in_ci: true,
            ..Limits::NONE
        };
        let d = decide_within(None, Some(os("false")), None, Choice::None, true, skip);
        assert_eq!(d.rule, Rule::AppVariable);
        let d = decide_within(None, None, None, Choice::None, true, skip);
        assert_eq!((d.mode, d.rule), (Mode::Off, Rule::CiPolicy));
        // Fail closed, and say so.
        let d = decide(None, Some(os("fasle")), None, Choice::Enabled, true);
        assert_eq!(d.mode, Mode::Off);
        assert!(d.is_unrecognised_enabled());
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_values_fail_closed() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![0x6c, 0xff, 0x67]);
        let d = decide(Some(&bad), None, None, Choice::Enabled, true);
        assert_eq!(
            (d.mode, d.value),
            (Mode::Off, Some(SwitchValue::Unrecognised))
        );
        let d = decide(
            None,
            Some(&bad),
            Some(OsStr::new("true")),
            Choice::None,
            true,
        );
        assert_eq!((d.mode, d.rule), (Mode::Off, Rule::AppVariable));
    }

    #[test]
    fn app_prefixes() {
        use crate::env::{app_enabled_variable, app_endpoint_variable, app_env_prefix};
        assert_eq!(app_env_prefix("agent"), "AGENT");
        assert_eq!(app_env_prefix("my-cli.2"), "MY_CLI_2");
        assert_eq!(app_env_prefix("a_b"), "A_B");
        assert_eq!(app_env_prefix("café"), "CAF_");
        assert_eq!(app_enabled_variable("agent"), "AGENT_TELEMETRY_ENABLED");
        assert_eq!(app_endpoint_variable("my-cli"), "MY_CLI_TELEMETRY_ENDPOINT");
    }

    #[test]
    fn json_names_are_stable() {
        let json = serde_json::to_string(&[
            Rule::DoNotTrack,
            Rule::AppVariable,
            Rule::TelemetryEnabled,
            Rule::RememberedChoice,
            Rule::Default,
            Rule::NoEndpoint,
            Rule::InvalidSetting,
            Rule::DisabledInCode,
        ])
        .unwrap();
        assert_eq!(
            json,
            r#"["do_not_track","app_variable","telemetry_enabled","remembered_choice","default","no_endpoint","invalid_setting","disabled_in_code"]"#
        );
        for rule in [
            Rule::DoNotTrack,
            Rule::NoEndpoint,
            Rule::InvalidAppName,
            Rule::InvalidEndpoint,
            Rule::UntrustedChoiceFile,
            Rule::ConfigDirRefused,
            Rule::IdFileRefused,
            Rule::NoticeMarkerRefused,
            Rule::NoConfigDir,
            Rule::RootForAnotherUser,
            Rule::MachinePolicy,
            Rule::CiPolicy,
        ] {
            assert_eq!(serde_json::to_value(rule).unwrap(), rule.as_str());
        }
        for value in [
            SwitchValue::True,
            SwitchValue::False,
            SwitchValue::Log,
            SwitchValue::Errors,
            SwitchValue::Unrecognised,
        ] {
            assert_eq!(serde_json::to_value(value).unwrap(), value.as_str());
        }
        assert_eq!(
            serde_json::to_string(&[Mode::On, Mode::Off, Mode::Log]).unwrap(),
            r#"["on","off","log"]"#
        );
    }
}
