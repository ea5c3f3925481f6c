//! Debug mode: each event's exact JSON record on the debug log, one line
//! prefixed `[telemetry] `, equal to what a loopback collector received; one
//! line whenever an event is not sent, saying why; and nothing sent beyond
//! what is sent without debug mode. (Why a client is off, by variable or for
//! want of an endpoint, is pinned in `opt_out`.)

use crate::common::{scene, the_line};
use std::path::Path;
use std::time::Duration;
use telemetry_core::{MemorySink, Outcome, Telemetry};
use telemetry_test_support::collector::{Behaviour, Collector};
use telemetry_test_support::debug_log::{logged_reasons, logged_records, PREFIX};
use telemetry_test_support::net::refused_endpoint;
use telemetry_test_support::{isolated, MemoryWriter, TempDir};

/// A client with its own config dir (without one, the log would also say
/// that the anonymous id lasts for this process only).
fn builder(endpoint: &str, config_dir: &TempDir) -> telemetry_core::TelemetryBuilder {
    Telemetry::builder("debug-test", "1.0.0")
        .endpoint(endpoint)
        .config_dir(config_dir.path())
        .notice(false)
        .timeout(Duration::from_secs(5))
        .env_vars([("TELEMETRY_TAGS", "team=core")])
}

fn debug_client(endpoint: &str, config_dir: &TempDir, log: &MemoryWriter) -> Telemetry {
    builder(endpoint, config_dir)
        .debug(true)
        .debug_writer(log.clone())
        .build()
}

/// Six records: a command, a session with a tool call and token usage, and
/// a failed command.
fn record_everything(telemetry: &Telemetry) {
    telemetry.track_command("run", ["--model=x"]);
    let session = telemetry.start_session("agent");
    session.record_tool_call("read", Duration::from_millis(2), Outcome::Success);
    session.record_token_usage("gpt-4o", 10, 5, 0.25);
    session.end();
    telemetry.record_command(
        "fail",
        Vec::<String>::new(),
        Duration::ZERO,
        Outcome::failure("Kind"),
    );
}

const RECORDS: usize = 6;

#[test]
fn each_record_is_logged_as_the_exact_json_the_collector_received() {
    let collector = Collector::start().unwrap();
    let log = MemoryWriter::new();
    let dir = TempDir::new("debug");
    record_everything(&debug_client(&collector.url(), &dir, &log));

    let lines = log.lines();
    assert_eq!(
        lines.len(),
        RECORDS,
        "one line per record, nothing else: {lines:#?}"
    );
    assert!(
        lines.iter().all(|line| line.starts_with(PREFIX)),
        "{lines:#?}"
    );
    let logged = logged_records(&log);
    let received = collector.records();
    assert_eq!(received.len(), RECORDS);
    assert_eq!(logged, received);
}

#[test]
fn debug_mode_sends_nothing_extra() {
    let plain = Collector::start().unwrap();
    let debugged = Collector::start().unwrap();
    let dir = TempDir::new("debug");
    record_everything(&builder(&plain.url(), &dir).debug(false).build());
    record_everything(&debug_client(&debugged.url(), &dir, &MemoryWriter::new()));
    assert_eq!(plain.requests().len(), RECORDS);
    assert_eq!(debugged.requests().len(), plain.requests().len());
    assert_eq!(debugged.connections(), plain.connections());
}

#[test]
fn without_debug_mode_the_debug_writer_gets_nothing() {
    let collector = Collector::start().unwrap();
    let log = MemoryWriter::new();
    let dir = TempDir::new("debug");
    let telemetry = builder(&refused_endpoint(), &dir)
        .debug_writer(log.clone())
        .debug(false)
        .build();
    record_everything(&telemetry);
    let off = Telemetry::builder("debug-test", "1.0.0")
        .endpoint(collector.url())
        .debug_writer(log.clone())
        .debug(false)
        .env_vars([("DO_NOT_TRACK", "1")])
        .build();
    record_everything(&off);
    assert!(log.is_empty(), "{}", log.text());
}

#[test]
fn the_first_run_logs_each_record_and_one_line_saying_it_is_held() {
    let (collector, root, log) = scene("debug-first-run");
    let telemetry = builder(&collector.url(), &root)
        .notice(true)
        .notice_writer(MemoryWriter::new())
        .debug(true)
        .debug_writer(log.clone())
        .build();
    record_everything(&telemetry);
    assert_eq!(collector.requests().len(), 0);

    let lines = log.lines();
    assert_eq!(lines.len(), 2 * RECORDS, "{lines:#?}");
    for pair in lines.chunks(2) {
        assert!(pair[0].starts_with("[telemetry] {"), "{pair:?}");
        assert!(pair[1].starts_with(PREFIX), "{pair:?}");
        assert!(pair[1].contains("first run"), "{pair:?}");
    }
    assert_eq!(logged_records(&log).len(), RECORDS);
}

#[test]
fn delivery_stopping_is_said_once_then_each_unsent_event_says_why() {
    let log = MemoryWriter::new();
    let dir = TempDir::new("debug");
    record_everything(&debug_client(&refused_endpoint(), &dir, &log));
    assert_eq!(logged_records(&log).len(), RECORDS);
    let reasons = logged_reasons(&log);
    assert_eq!(
        reasons.len(),
        RECORDS,
        "one reason per unsent event: {reasons:#?}"
    );
    // Said once, first.
    assert_eq!(the_line(&reasons, "delivery stopped"), reasons[0]);
    assert!(
        reasons[1..]
            .iter()
            .all(|reason| reason.contains("not sent")),
        "{reasons:#?}"
    );
}

#[test]
fn a_rejected_record_is_logged_with_the_status() {
    // 500: refused for good, so no back-off holds the next record.
    let collector = Collector::start_with(Behaviour::Status(500)).unwrap();
    let log = MemoryWriter::new();
    let dir = TempDir::new("debug");
    let telemetry = debug_client(&collector.url(), &dir, &log);
    telemetry.track_command("run", Vec::<String>::new());
    collector.set_behaviour(Behaviour::Accept);
    telemetry.track_command("run", Vec::<String>::new());
    let reasons = logged_reasons(&log);
    assert_eq!(reasons.len(), 1, "{reasons:#?}");
    assert!(reasons[0].contains("500"), "{reasons:#?}");
    // The two records, and the client_report of the refused one.
    assert_eq!(logged_records(&log).len(), 3);
    assert_eq!(collector.requests().len(), 2);
}

#[test]
fn a_debug_file_receives_the_same_lines() {
    let (collector, root, _) = scene("debug-file");
    let path = root.join("telemetry.log");
    let telemetry = builder(&collector.url(), &root)
        .debug(true)
        .debug_file(&path)
        .build();
    record_everything(&telemetry);
    let logged: Vec<serde_json::Value> = read_lines(&path)
        .iter()
        .map(|line| {
            let json = line.strip_prefix(PREFIX).expect("prefixed");
            telemetry_test_support::json::strict_json(json.as_bytes()).expect("a record")
        })
        .collect();
    assert_eq!(logged, collector.records());
}

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("the debug file exists")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Regression: `debug_file` followed a planted symlink and appended to the
/// file it pointed at, and created the log 0644. Now a link is refused (the
/// log goes to stderr) and a new log is created 0600.
#[test]
fn a_debug_file_is_created_private_and_never_written_through_a_link() {
    use std::os::unix::fs::PermissionsExt;
    let root = TempDir::new("debug-file-link");
    let victim = root.join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let link = root.join("debug.log");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let log_to = |path: &Path| {
        isolated("debug-test", "1.0.0")
            .sink(MemorySink::new())
            .debug_file(path)
            .build()
            .track_command("x", Vec::<String>::new());
    };
    log_to(&link);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());

    let fresh = root.join("fresh.log");
    log_to(&fresh);
    let mode = std::fs::metadata(&fresh).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(std::fs::read_to_string(&fresh)
        .unwrap()
        .contains("\"action\":\"x\""));
}
