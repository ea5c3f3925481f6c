//! The `errors` level sends failed commands and failed tool calls only (no
//! token usage, no session, no successful call), whichever source set it:
//! `<APP>_TELEMETRY_ENABLED=errors`, `TELEMETRY_ENABLED=errors`,
//! `telemetry enable --errors-only` (remembered), the builder's `level`
//! (the machine policy's is `machine_policy.rs`'s). Log-only mode prints
//! what the level would send.

use crate::common::{assert_says, property, wire};
use std::io;
use std::time::Duration;
use telemetry_core::{
    tracked_command, tracked_tool, Level, MemorySink, Mode, Outcome, Rule, Telemetry,
    TelemetryBuilder,
};
use telemetry_test_support::debug_log::logged_records;
use telemetry_test_support::{MemoryWriter, TempDir};

const APP: &str = "levels-test";

/// What a failures-only run sends of [`record_a_run`]: `(event, name)`.
pub(crate) const FAILURES_ONLY: [(&str, &str); 2] = [("tool", "search_web"), ("command", "run")];

#[tracked_tool]
fn plan_steps() -> usize {
    3
}

#[tracked_tool]
fn search_web() -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::NotFound, "no results"))
}

/// An agent's run, as `agent run` records it, followed by a failing one:
/// a successful command, a session with a successful and a failing tool
/// call and token usage, then a failing command.
pub(crate) fn record_a_run(telemetry: &Telemetry) {
    #[tracked_command]
    fn version() {}

    #[tracked_command(name = "run")]
    fn run() -> io::Result<()> {
        let session = telemetry_core::start_session("root");
        let failed = session.scope(|| {
            plan_steps();
            telemetry_core::record_token_usage("gpt-4o", 10, 5, 0.001);
            search_web()
        });
        session.end();
        failed
    }

    telemetry.scope(|| {
        version();
        let _ = run();
    });
}

/// The `(event, tool name or action)` of a wire record.
pub(crate) fn shape(record: &serde_json::Value) -> (String, String) {
    let name = match property(record, "tool_name") {
        "" => property(record, "action"),
        tool => tool,
    };
    let event = record["event"].as_str().unwrap_or_default();
    (event.to_owned(), name.to_owned())
}

/// The shape of each record sent.
pub(crate) fn sent_shapes(sink: &MemorySink) -> Vec<(String, String)> {
    wire(sink).iter().map(shape).collect()
}

/// [`FAILURES_ONLY`] as shapes.
pub(crate) fn failures_only() -> Vec<(String, String)> {
    FAILURES_ONLY
        .iter()
        .map(|(kind, name)| (kind.to_string(), name.to_string()))
        .collect()
}

fn builder(dir: &TempDir, sink: &MemorySink, vars: &[(&str, &str)]) -> TelemetryBuilder {
    Telemetry::builder(APP, "1.0.0")
        .sink(sink.clone())
        .notice(false)
        .config_dir(dir.join("config"))
        .env_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

#[test]
fn everything_is_sent_at_the_default_level() {
    let dir = TempDir::new("levels-all");
    let sink = MemorySink::new();
    let telemetry = builder(&dir, &sink, &[]).build();
    assert_eq!(telemetry.status().level, Level::All);
    record_a_run(&telemetry);
    let kinds: Vec<String> = sent_shapes(&sink)
        .into_iter()
        .map(|(kind, _)| kind)
        .collect();
    assert_eq!(
        kinds,
        ["command", "session", "tool", "token", "tool", "session", "command"]
    );
}

#[test]
fn errors_from_either_variable_sends_only_failures() {
    for (variable, value) in [
        ("LEVELS_TEST_TELEMETRY_ENABLED", "errors"),
        ("TELEMETRY_ENABLED", " Errors "),
    ] {
        let dir = TempDir::new("levels-variable");
        let sink = MemorySink::new();
        let make = || builder(&dir, &sink, &[(variable, value)]);
        let status = make().controls().status();
        assert!(status.enabled);
        assert_eq!(status.level, Level::Errors);
        assert_eq!(status.variable.as_deref(), Some(variable));
        let json: serde_json::Value = serde_json::from_str(&status.to_json()).unwrap();
        assert_eq!(json["level"], "errors");
        assert_eq!(json["value"], "errors");
        let telemetry = make().build();
        record_a_run(&telemetry);
        assert_eq!(sent_shapes(&sink), failures_only(), "{variable}");
    }
}

#[test]
fn enable_errors_only_is_remembered_and_sends_only_failures() {
    let dir = TempDir::new("levels-choice");
    let sink = MemorySink::new();
    builder(&dir, &sink, &[])
        .controls()
        .enable_errors_only()
        .unwrap();
    let status = builder(&dir, &sink, &[]).controls().status();
    assert_eq!(
        (status.level, status.decided_by),
        (Level::Errors, Rule::RememberedChoice)
    );
    assert!(
        status.to_string().contains("only failed commands"),
        "{status}"
    );
    let telemetry = builder(&dir, &sink, &[]).build();
    record_a_run(&telemetry);
    assert_eq!(sent_shapes(&sink), failures_only());
    // A variable wins over the remembered choice, both ways.
    let status = builder(&dir, &sink, &[("TELEMETRY_ENABLED", "true")])
        .controls()
        .status();
    assert_eq!(status.level, Level::All);
    // `enable` goes back to everything.
    builder(&dir, &sink, &[]).controls().enable().unwrap();
    assert_eq!(
        builder(&dir, &sink, &[]).controls().status().level,
        Level::All
    );
}

#[test]
fn the_builders_level_only_restricts() {
    let dir = TempDir::new("levels-builder");
    let sink = MemorySink::new();
    let telemetry = builder(&dir, &sink, &[("TELEMETRY_ENABLED", "true")])
        .level(Level::Errors)
        .build();
    assert_eq!(telemetry.status().level, Level::Errors);
    record_a_run(&telemetry);
    assert_eq!(sent_shapes(&sink), failures_only());
    let off = builder(&dir, &sink, &[]).level(Level::Off).build();
    assert_eq!(off.status().level, Level::Off);
}

/// A [`builder`] with its own config dir (named after `label`) whose debug
/// log goes to the returned writer.
fn logged_builder(
    label: &str,
    vars: &[(&str, &str)],
) -> (TempDir, MemorySink, MemoryWriter, TelemetryBuilder) {
    let dir = TempDir::new(label);
    let sink = MemorySink::new();
    let log = MemoryWriter::new();
    let builder = builder(&dir, &sink, vars).debug_writer(log.clone());
    (dir, sink, log, builder)
}

#[test]
fn log_mode_prints_what_the_level_would_send() {
    let (_dir, sink, printed, builder) =
        logged_builder("levels-log", &[("TELEMETRY_ENABLED", "log")]);
    let telemetry = builder.level(Level::Errors).debug(false).build();
    let status = telemetry.status();
    assert_eq!((status.mode, status.level), (Mode::Log, Level::Errors));
    record_a_run(&telemetry);
    assert!(sink.records().is_empty());
    let printed: Vec<(String, String)> = logged_records(&printed).iter().map(shape).collect();
    assert_eq!(printed, failures_only());
}

#[test]
fn the_debug_log_says_why_a_record_was_not_sent() {
    let (_dir, sink, log, builder) = logged_builder(
        "levels-debug",
        &[("LEVELS_TEST_TELEMETRY_ENABLED", "errors")],
    );
    let telemetry = builder.build();
    telemetry.record_tool_call("x", "", "", Duration::ZERO, Outcome::Success);
    telemetry.record_tool_call("x", "", "", Duration::ZERO, Outcome::failure("Bad"));
    assert_eq!(sink.records().len(), 1);
    assert_says(&log.text(), &["not sent: the level is errors"], &[]);
}
