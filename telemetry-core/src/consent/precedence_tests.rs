//! The precedence rules against a reference model.

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
