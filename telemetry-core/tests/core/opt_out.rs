//! The opt-out and its precedence (DESIGN.md, "first match wins"):
//! `DO_NOT_TRACK` × `TELEMETRY_ENABLED` as a table, "nothing to send to",
//! `TELEMETRY_ENDPOINT` overriding the builder, and bad endpoints, each
//! checked through `is_enabled()` and through what a sink or a loopback
//! collector receives. The environment is injected, never mutated.

use std::time::Duration;
use telemetry_core::{MemorySink, Outcome, Telemetry, TelemetryBuilder};
use telemetry_test_support::collector::Collector;
use telemetry_test_support::debug_log::logged_reasons;
use telemetry_test_support::isolated;
use telemetry_test_support::process::run_alone;
use telemetry_test_support::MemoryWriter;

/// Records one of each kind: five records when on.
fn record_everything(telemetry: &Telemetry) {
    telemetry.track_command("run", ["--flag"]);
    telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    telemetry.record_token_usage("m", 1, 1, 0.1);
    telemetry.start_session("agent").end();
}

const RECORDS_WHEN_ON: usize = 5;

/// A builder for `app` that shows no first-run notice (and would print it
/// nowhere).
fn quiet(app: &str) -> TelemetryBuilder {
    Telemetry::builder(app, "1.0.0")
        .notice(false)
        .notice_writer(MemoryWriter::new())
}

/// `DO_NOT_TRACK` values that refuse tracking (`None` is "unset").
const DO_NOT_TRACK_REFUSES: [Option<&str>; 4] =
    [Some("1"), Some("true"), Some("yes"), Some(" ON ")];
/// `DO_NOT_TRACK` values that leave the decision to the next rule.
const DO_NOT_TRACK_PASSES: [Option<&str>; 4] = [None, Some("0"), Some("false"), Some("")];

/// `TELEMETRY_ENABLED` values that alone turn telemetry on.
const ENABLED_ON: [Option<&str>; 6] = [
    Some("true"),
    Some("1"),
    Some("Yes"),
    Some("on"),
    Some(""),
    None,
];
/// `TELEMETRY_ENABLED` values that turn it off, the last unrecognised
/// (fail closed).
const ENABLED_OFF: [Option<&str>; 6] = [
    Some("false"),
    Some("FALSE"),
    Some(" off "),
    Some("0"),
    Some("no"),
    Some("fasle"),
];

/// Each value of `yes` paired with `true`, each of `no` with
/// `false` (for `DO_NOT_TRACK`: whether it refuses; for
/// `TELEMETRY_ENABLED`: whether it says on).
fn table<'a>(yes: &[Option<&'a str>], no: &[Option<&'a str>]) -> Vec<(Option<&'a str>, bool)> {
    let yes = yes.iter().map(|value| (*value, true));
    yes.chain(no.iter().map(|value| (*value, false))).collect()
}

#[test]
fn do_not_track_and_telemetry_enabled_matrix() {
    let mut mismatches = Vec::new();
    for (do_not_track, tracking_refused) in table(&DO_NOT_TRACK_REFUSES, &DO_NOT_TRACK_PASSES) {
        for (enabled, enabled_says_on) in table(&ENABLED_ON, &ENABLED_OFF) {
            let expected_on = !tracking_refused && enabled_says_on;
            let mut vars = Vec::new();
            if let Some(value) = do_not_track {
                vars.push(("DO_NOT_TRACK", value));
            }
            if let Some(value) = enabled {
                vars.push(("TELEMETRY_ENABLED", value));
            }
            let sink = MemorySink::new();
            let telemetry = quiet("matrix").sink(sink.clone()).env_vars(vars).build();
            record_everything(&telemetry);
            let received = sink.records().len();
            let expected_records = if expected_on { RECORDS_WHEN_ON } else { 0 };
            if telemetry.is_enabled() != expected_on || received != expected_records {
                mismatches.push(format!(
                    "DO_NOT_TRACK={do_not_track:?} TELEMETRY_ENABLED={enabled:?}: \
                     expected {}, got is_enabled()={} and {received} records",
                    if expected_on { "on" } else { "off" },
                    telemetry.is_enabled(),
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn the_reason_names_the_variable_that_turned_telemetry_off() {
    let cases = [
        (vec![("DO_NOT_TRACK", "1")], "DO_NOT_TRACK"),
        (
            vec![("DO_NOT_TRACK", "true"), ("TELEMETRY_ENABLED", "true")],
            "DO_NOT_TRACK",
        ),
        (vec![("TELEMETRY_ENABLED", "off")], "TELEMETRY_ENABLED"),
        (
            vec![("DO_NOT_TRACK", "0"), ("TELEMETRY_ENABLED", "fasle")],
            "TELEMETRY_ENABLED",
        ),
    ];
    for (vars, variable) in cases {
        let log = MemoryWriter::new();
        let telemetry = quiet("reasons")
            .sink(MemorySink::new())
            .debug(true)
            .debug_writer(log.clone())
            .env_vars(vars.clone())
            .build();
        record_everything(&telemetry);
        assert!(!telemetry.is_enabled(), "{vars:?}");
        let reasons = logged_reasons(&log);
        assert_eq!(reasons.len(), 1, "{vars:?}: {reasons:?}");
        assert!(reasons[0].contains(variable), "{vars:?}: {reasons:?}");
        assert_eq!(log.lines().len(), 1, "nothing else is logged when off");
    }
}

#[test]
fn nothing_to_send_to_turns_telemetry_off() {
    let log = MemoryWriter::new();
    let telemetry = isolated("nowhere", "1.0.0")
        .debug(true)
        .debug_writer(log.clone())
        .build();
    assert!(!telemetry.is_enabled());
    record_everything(&telemetry);
    let reasons = logged_reasons(&log);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].contains("no endpoint"), "{reasons:?}");

    // An empty TELEMETRY_ENDPOINT is no endpoint either.
    let telemetry = quiet("nowhere")
        .env_vars([("TELEMETRY_ENDPOINT", "")])
        .build();
    assert!(!telemetry.is_enabled());
}

/// Builds `builder` with `TELEMETRY_ENDPOINT` set to `endpoint`, checks
/// that the client is on, and records one of each kind with it.
fn record_everything_with_env_endpoint(builder: TelemetryBuilder, endpoint: String) {
    let telemetry = builder.env_vars([("TELEMETRY_ENDPOINT", endpoint)]).build();
    assert!(telemetry.is_enabled());
    record_everything(&telemetry);
}

#[test]
fn telemetry_endpoint_overrides_the_builder_endpoint() {
    let from_env = Collector::start().unwrap();
    let from_builder = Collector::start().unwrap();
    let builder = quiet("override")
        .endpoint(from_builder.url())
        .timeout(Duration::from_secs(5));
    record_everything_with_env_endpoint(builder, from_env.url());
    assert_eq!(from_env.requests().len(), RECORDS_WHEN_ON);
    assert_eq!(from_builder.connections(), 0);

    // Without the variable, the builder's endpoint is used.
    let telemetry = isolated("override", "1.0.0")
        .endpoint(from_builder.url())
        .timeout(Duration::from_secs(5))
        .build();
    telemetry.track_command("run", Vec::<String>::new());
    assert_eq!(from_builder.requests().len(), 1);
    assert_eq!(from_env.requests().len(), RECORDS_WHEN_ON);
}

#[test]
fn telemetry_endpoint_alone_is_enough() {
    let collector = Collector::start().unwrap();
    let telemetry = quiet("env-only")
        .timeout(Duration::from_secs(5))
        .env_vars([("TELEMETRY_ENDPOINT", collector.url())])
        .build();
    assert!(telemetry.is_enabled());
    telemetry.track_command("run", Vec::<String>::new());
    assert_eq!(collector.records().len(), 1);
}

const BAD_ENDPOINTS: [&str; 6] = [
    "not a url",
    "ftp://x",
    "",
    "   ",
    "http://",
    "mailto:someone@example.com",
];

#[test]
fn a_bad_builder_endpoint_turns_telemetry_off_and_says_why() {
    for bad in BAD_ENDPOINTS {
        let log = MemoryWriter::new();
        let telemetry = isolated("bad-endpoint", "1.0.0")
            .endpoint(bad)
            .debug(true)
            .debug_writer(log.clone())
            .build();
        assert!(!telemetry.is_enabled(), "{bad:?}");
        record_everything(&telemetry);
        let reasons = logged_reasons(&log);
        assert_eq!(reasons.len(), 1, "{bad:?}: {reasons:?}");
        assert!(
            reasons[0].contains("off") && reasons[0].contains("endpoint"),
            "{bad:?}: {reasons:?}"
        );
    }
}

#[test]
fn a_bad_telemetry_endpoint_turns_telemetry_off_even_with_a_good_builder_endpoint() {
    let collector = Collector::start().unwrap();
    for bad in BAD_ENDPOINTS {
        if bad.trim().is_empty() {
            // Empty means unset: covered below.
            continue;
        }
        let log = MemoryWriter::new();
        let telemetry = quiet("bad-endpoint")
            .endpoint(collector.url())
            .debug(true)
            .debug_writer(log.clone())
            .env_vars([("TELEMETRY_ENDPOINT", bad)])
            .build();
        assert!(!telemetry.is_enabled(), "{bad:?}");
        record_everything(&telemetry);
        let reasons = logged_reasons(&log);
        assert_eq!(reasons.len(), 1, "{bad:?}: {reasons:?}");
        assert!(reasons[0].contains("endpoint"), "{bad:?}: {reasons:?}");
    }
    assert_eq!(collector.connections(), 0);

    // An empty TELEMETRY_ENDPOINT is unset: the builder's endpoint is used.
    let telemetry = quiet("empty-env")
        .endpoint(collector.url())
        .timeout(Duration::from_secs(5))
        .env_vars([("TELEMETRY_ENDPOINT", "")])
        .build();
    telemetry.track_command("run", Vec::<String>::new());
    assert_eq!(collector.records().len(), 1);
}

#[test]
fn a_sink_takes_precedence_over_any_endpoint() {
    let collector = Collector::start().unwrap();
    let sink = MemorySink::new();
    let builder = quiet("sink-wins").endpoint("not a url").sink(sink.clone());
    record_everything_with_env_endpoint(builder, collector.url());
    assert_eq!(sink.records().len(), RECORDS_WHEN_ON);
    assert_eq!(collector.connections(), 0);
}

#[test]
fn a_disabled_client_is_off() {
    let telemetry = Telemetry::disabled();
    assert!(!telemetry.is_enabled());
    record_everything(&telemetry);
    assert!(!Telemetry::default().is_enabled());
}

#[cfg(unix)]
#[test]
fn non_utf8_values_fail_closed() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    let not_utf8 = || OsString::from_vec(vec![b'1', 0xff]);
    let collector = Collector::start().unwrap();
    for variable in ["DO_NOT_TRACK", "TELEMETRY_ENABLED", "TELEMETRY_ENDPOINT"] {
        let log = MemoryWriter::new();
        let telemetry = quiet("non-utf8")
            .endpoint(collector.url())
            .debug(true)
            .debug_writer(log.clone())
            .env_vars([(variable, not_utf8())])
            .build();
        assert!(!telemetry.is_enabled(), "{variable}");
        let reasons = logged_reasons(&log);
        assert_eq!(reasons.len(), 1, "{variable}: {reasons:?}");
        assert!(reasons[0].contains(variable), "{variable}: {reasons:?}");
        record_everything(&telemetry);
    }
    assert_eq!(collector.connections(), 0);
}

fn build_with_enabled(value: &str, warnings: &MemoryWriter) -> Telemetry {
    Telemetry::builder("warn-test", "1.0.0")
        .sink(MemorySink::new())
        .notice_writer(warnings.clone())
        .env_vars([("TELEMETRY_ENABLED", value)])
        .build()
}

/// An unrecognised `TELEMETRY_ENABLED` fails closed with one warning line,
/// once per process: the test runs alone in a process of its own, so that
/// no other test can have printed it first.
#[test]
fn an_unrecognised_value_warns_with_one_line_once_per_process() {
    run_alone(
        "opt_out::an_unrecognised_value_warns_with_one_line_once_per_process",
        || {
            // A recognised value warns about nothing.
            let quiet = MemoryWriter::new();
            assert!(!build_with_enabled("false", &quiet).is_enabled());
            assert!(quiet.is_empty(), "{}", quiet.text());

            let first = MemoryWriter::new();
            assert!(!build_with_enabled("fasle", &first).is_enabled());
            let lines = first.lines();
            assert_eq!(lines.len(), 1, "{lines:?}");
            assert!(lines[0].contains("TELEMETRY_ENABLED"), "{lines:?}");

            let second = MemoryWriter::new();
            assert!(!build_with_enabled("enabled", &second).is_enabled());
            assert!(second.is_empty(), "{}", second.text());
        },
    );
}
