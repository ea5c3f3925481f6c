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

/// One case's inputs, the variables' values as text.
#[derive(Debug, Clone, Copy)]
struct Case<'a> {
    dnt: Option<&'a str>,
    app: Option<&'a str>,
    generic: Option<&'a str>,
    remembered: Choice,
    dest: bool,
}

/// Nothing set, with a destination.
const UNSET: Case<'static> = Case {
    dnt: None,
    app: None,
    generic: None,
    remembered: Choice::None,
    dest: true,
};

impl Case<'_> {
    /// The implementation's answer for this case within `limits`.
    fn decide(self, limits: Limits) -> Outcome {
        let os = |v: Option<&str>| v.map(OsString::from);
        let (dnt, app, generic) = (os(self.dnt), os(self.app), os(self.generic));
        let got = decide_within(
            Inputs {
                do_not_track: dnt.as_deref(),
                app_enabled: app.as_deref(),
                telemetry_enabled: generic.as_deref(),
                remembered: self.remembered,
                has_destination: self.dest,
            },
            limits,
        );
        (
            got.mode,
            got.rule,
            got.value.map(SwitchValue::as_str),
            got.level,
        )
    }
}

/// The rules written out as a list, tried in order, then the limits:
/// the reference the implementation must agree with.
fn reference(case: Case<'_>, limits: Limits) -> Outcome {
    let norm = |v: Option<&str>| {
        v.map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
    };
    let (dnt, app, generic) = (norm(case.dnt), norm(case.app), norm(case.generic));
    let (remembered, has_destination) = (case.remembered, case.dest);
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

fn check(case: Case<'_>, limits: Limits) {
    assert_eq!(
        case.decide(limits),
        reference(case, limits),
        "{case:?} {limits:?}"
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
                        let case = Case {
                            dnt,
                            app,
                            generic,
                            remembered,
                            dest,
                        };
                        check(case, Limits::NONE);
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
                    let case = Case {
                        remembered,
                        dest,
                        ..UNSET
                    };
                    check(Case { app: value, ..case }, limits);
                    check(
                        Case {
                            dnt: value,
                            generic: Some("true"),
                            ..case
                        },
                        limits,
                    );
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
        let case = Case {
            dnt: dnt.as_deref(),
            app: app.as_deref(),
            generic: generic.as_deref(),
            remembered,
            dest,
        };
        check(case, limits);
    }
}

#[test]
fn the_named_cases_of_the_issue() {
    use Level::{All, Errors, Off};
    let policy = |level| Limits {
        policy: Some(level),
        ..Limits::NONE
    };
    let skip = Limits {
        skip_in_ci: true,
        ..Limits::NONE
    };
    let enabled = Case {
        remembered: Choice::Enabled,
        ..UNSET
    };
    let on = |rule, value| (Mode::On, rule, value, All);
    #[rustfmt::skip]
    let cases: [(&str, Case, Limits, Outcome); 17] = [
        ("DO_NOT_TRACK=1 beats `enable`", Case { dnt: Some("1"), ..enabled }, Limits::NONE,
            (Mode::Off, Rule::DoNotTrack, Some("true"), Off)),
        ("the app's own false beats TELEMETRY_ENABLED=true", Case { app: Some("false"), generic: Some("true"), ..UNSET }, Limits::NONE,
            (Mode::Off, Rule::AppVariable, Some("false"), Off)),
        ("and the app's own true beats TELEMETRY_ENABLED=false", Case { app: Some("true"), generic: Some("false"), ..UNSET }, Limits::NONE,
            on(Rule::AppVariable, Some("true"))),
        ("log-only needs no destination", Case { generic: Some("log"), remembered: Choice::Disabled, dest: false, ..UNSET }, Limits::NONE,
            (Mode::Log, Rule::TelemetryEnabled, Some("log"), All)),
        ("the app's own log beats TELEMETRY_ENABLED=true", Case { app: Some("LOG"), generic: Some("true"), ..UNSET }, Limits::NONE,
            (Mode::Log, Rule::AppVariable, Some("log"), All)),
        ("the remembered choice", Case { remembered: Choice::Disabled, ..UNSET }, Limits::NONE,
            (Mode::Off, Rule::RememberedChoice, None, Off)),
        ("then the default", UNSET, Limits::NONE, on(Rule::Default, None)),
        ("then no endpoint", Case { generic: Some("true"), dest: false, ..UNSET }, Limits::NONE,
            (Mode::Off, Rule::NoEndpoint, None, Off)),
        ("errors from a variable", Case { app: Some("errors"), remembered: Choice::Disabled, ..UNSET }, Limits::NONE,
            (Mode::On, Rule::AppVariable, Some("errors"), Errors)),
        ("errors from the remembered choice", Case { remembered: Choice::ErrorsOnly, ..UNSET }, Limits::NONE,
            (Mode::On, Rule::RememberedChoice, None, Errors)),
        ("a policy at `off` beats TELEMETRY_ENABLED=true and `enable`", Case { generic: Some("true"), ..enabled }, policy(Off),
            (Mode::Off, Rule::MachinePolicy, None, Off)),
        ("a policy at `errors` lowers `all`, and says so", Case { generic: Some("true"), ..UNSET }, policy(Errors),
            (Mode::On, Rule::MachinePolicy, None, Errors)),
        ("but never raises a stricter choice", Case { remembered: Choice::ErrorsOnly, ..UNSET }, policy(All),
            (Mode::On, Rule::RememberedChoice, None, Errors)),
        ("an opt-out variable still wins in CI", Case { app: Some("false"), ..UNSET }, skip,
            (Mode::Off, Rule::AppVariable, Some("false"), Off)),
        ("the CI policy `skip`", UNSET, skip, (Mode::Off, Rule::CiPolicy, None, Off)),
        ("fail closed", Case { app: Some("fasle"), ..enabled }, Limits::NONE,
            (Mode::Off, Rule::AppVariable, Some("unrecognised"), Off)),
        ("an unrecognised DO_NOT_TRACK is off too", Case { dnt: Some("maybe"), ..enabled }, Limits::NONE,
            (Mode::Off, Rule::DoNotTrack, Some("unrecognised"), Off)),
    ];
    for (what, case, limits, want) in cases {
        assert_eq!(case.decide(limits), want, "{what}: {case:?} {limits:?}");
    }
    // Fail closed, and say so.
    let inputs = Inputs {
        do_not_track: None,
        app_enabled: Some(OsStr::new("fasle")),
        telemetry_enabled: None,
        remembered: Choice::Enabled,
        has_destination: true,
    };
    assert!(decide(inputs).is_unrecognised_enabled());
}

#[cfg(unix)]
#[test]
fn non_utf8_values_fail_closed() {
    use std::os::unix::ffi::OsStringExt;
    let bad = OsString::from_vec(vec![0x6c, 0xff, 0x67]);
    let unset = Inputs {
        do_not_track: None,
        app_enabled: None,
        telemetry_enabled: None,
        remembered: Choice::Enabled,
        has_destination: true,
    };
    let d = decide(Inputs {
        do_not_track: Some(&bad),
        ..unset
    });
    assert_eq!(
        (d.mode, d.value),
        (Mode::Off, Some(SwitchValue::Unrecognised))
    );
    let d = decide(Inputs {
        app_enabled: Some(&bad),
        telemetry_enabled: Some(OsStr::new("true")),
        ..unset
    });
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
