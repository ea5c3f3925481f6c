//! Ready for hosted backends, seen from outside: the `agent` example run
//! as a process with `--compress gzip` against real loopback collectors,
//! and a collector that asks to wait (`Retry-After`), which later
//! processes honour without opening a connection.

use serde_json::Value;
use std::process::Output;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use telemetry_test_support::agent::{debug_lines, past_notice, stdout, Agent};
use telemetry_test_support::collector::{Behaviour, Collector};
use telemetry_test_support::records::{assert_each_once, parse_lines};

/// The records of one `agent run`.
const RUN_RECORDS: usize = 8;

fn succeeded(output: &Output) {
    assert!(output.status.success(), "{output:?}");
}

/// The records `--debug` printed, parsed (each line is exactly the JSON
/// the sink sends for that record).
fn printed(output: &Output) -> Vec<Value> {
    parse_lines(debug_lines(output).iter().map(String::as_str))
}

/// Every request was gzipped; returns the bodies, inflated by the
/// collector, as JSON.
fn gzipped_bodies(collector: &Collector) -> Vec<Value> {
    let requests = collector.requests();
    assert!(!requests.is_empty());
    requests
        .iter()
        .map(|request| {
            assert_eq!(request.header("content-encoding"), Some("gzip"));
            assert!(
                request.wire_body.starts_with(&[0x1f, 0x8b]),
                "a gzip stream"
            );
            assert!(request.wire_body.len() < request.body.len());
            serde_json::from_slice(&request.body).expect("the inflated body is JSON")
        })
        .collect()
}

#[test]
fn gzip_bodies_inline_decompress_to_exactly_the_records() {
    let (collector, agent) = past_notice();
    let output = agent.run(&["--compress", "gzip", "--debug", "run", "hello"]);
    succeeded(&output);
    let made = printed(&output);
    assert_eq!(made.len(), RUN_RECORDS);
    let bodies = gzipped_bodies(&collector);
    // One record a request, each exactly as made.
    let sent: Vec<Value> = bodies
        .iter()
        .flat_map(|body| body["records"].as_array().unwrap().clone())
        .collect();
    assert_eq!(sent, made);
    assert!(bodies.iter().all(|body| body["sent_at"].is_u64()));
}

#[test]
fn gzip_bodies_in_background_decompress_to_exactly_the_records() {
    let (collector, agent) = past_notice();
    let output = agent.run(&[
        "--compress",
        "gzip",
        "--delivery",
        "background",
        "--debug",
        "run",
        "hello",
    ]);
    succeeded(&output);
    let made = printed(&output);
    assert_eq!(made.len(), RUN_RECORDS);
    let sent: Vec<Value> = gzipped_bodies(&collector)
        .iter()
        .flat_map(|body| body["records"].as_array().unwrap().clone())
        .collect();
    assert_eq!(sent, made);
}

/// The log records of OTLP requests, in order.
fn log_records(bodies: &[Value]) -> Vec<Value> {
    bodies
        .iter()
        .flat_map(|body| {
            body["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
                .as_array()
                .expect("log records")
                .clone()
        })
        .collect()
}

#[test]
fn otlp_bodies_are_gzipped_by_default_and_decompress_to_exactly_the_records() {
    for delivery in ["inline", "background"] {
        // The loopback collector reads the records format only: here it
        // just keeps each OTLP request and answers 200.
        let collector = Collector::start_with(Behaviour::Status(200)).unwrap();
        let agent = Agent::after_first_run(&collector.url());
        let output = agent.run(&[
            "--export",
            "otlp",
            "--delivery",
            delivery,
            "--debug",
            "run",
            "hello",
        ]);
        succeeded(&output);
        // Debug mode prints each record as the OTLP request it alone is.
        let made = log_records(&printed(&output));
        assert_eq!(made.len(), RUN_RECORDS, "{delivery}");
        let sent = log_records(&gzipped_bodies(&collector));
        assert_eq!(sent, made, "{delivery}");
    }
    // `--compress none` turns it off.
    let collector = Collector::start_with(Behaviour::Status(200)).unwrap();
    let agent = Agent::after_first_run(&collector.url());
    succeeded(&agent.run(&["--export", "otlp", "--compress", "none", "run", "hello"]));
    let requests = collector.requests();
    assert_eq!(requests.len(), RUN_RECORDS);
    assert!(requests
        .iter()
        .all(|request| request.header("content-encoding").is_none()));
}

/// `agent telemetry status` says whether the collector asked to wait.
fn status_says_wait(agent: &Agent) -> bool {
    let output = agent.run(&["telemetry", "status"]);
    succeeded(&output);
    stdout(&output).contains("Collector asked to wait until")
}

/// A collector asks to wait (`retry_after()`, the header's text, made
/// right before the first run; at least 3 s and at most `window`); the
/// first background run keeps its records, the `waiting` runs within 3 s
/// open no connection, and the first run after the window delivers every
/// record of all of them exactly once.
fn later_runs_wait_then_deliver_everything(
    status: u16,
    retry_after: impl Fn() -> String,
    window: Duration,
    waiting: usize,
) {
    let (collector, agent) = past_notice();
    let run = ["--delivery", "background", "run", "hello"];
    collector.set_behaviour(Behaviour::Throttle(status, retry_after()));
    let asked = Instant::now();
    succeeded(&agent.run(&run));
    assert_eq!(
        collector.requests().len(),
        1,
        "the first run was refused, not retried"
    );
    collector.set_behaviour(Behaviour::Accept);
    let connections = collector.connections();
    assert!(status_says_wait(&agent));
    for _ in 0..waiting {
        succeeded(&agent.run(&run));
    }
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "the runs took {:?}: they were not all within the wait",
        asked.elapsed()
    );
    assert_eq!(
        collector.connections(),
        connections,
        "no connection while waiting"
    );
    assert!(collector.records().is_empty());

    std::thread::sleep(window.saturating_sub(asked.elapsed()) + Duration::from_millis(300));
    assert!(!status_says_wait(&agent));
    succeeded(&agent.run(&run));
    let records = collector.records();
    assert_each_once(&records);
    assert_eq!(
        records.len(),
        (waiting + 2) * RUN_RECORDS,
        "every record of every run"
    );
}

#[test]
fn a_429_retry_after_3_holds_the_next_three_runs_then_every_record_arrives_once() {
    later_runs_wait_then_deliver_everything(429, || "3".to_owned(), Duration::from_secs(3), 3);
}

/// `Retry-After` as an HTTP date (IMF-fixdate, whole seconds): 4 s ahead,
/// so 3 to 4 s from the first run.
#[test]
fn a_retry_after_http_date_is_honoured() {
    later_runs_wait_then_deliver_everything(
        503,
        || http_date(SystemTime::now() + Duration::from_secs(4)),
        Duration::from_secs(4),
        2,
    );
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` for `time`.
fn http_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    // The collector's day format (`YYYY-MM-DD`), taken apart.
    let date = telemetry_collector::day::format(days as i64);
    let [year, month, day]: [u32; 3] = date
        .split('-')
        .map(|part| part.parse().unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(month - 1) as usize];
    format!(
        "{weekday}, {day:02} {month} {year} {:02}:{:02}:{:02} GMT",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[test]
fn the_http_date_helper_writes_imf_fixdate() {
    assert_eq!(
        http_date(UNIX_EPOCH + Duration::from_secs(784_111_777)),
        "Sun, 06 Nov 1994 08:49:37 GMT"
    );
}

/// Inline, a run during the wait drops its records (counted, said in the
/// debug log) and opens no connection.
#[test]
fn inline_runs_during_the_wait_open_no_connection_and_say_why() {
    let collector = Collector::start_with(Behaviour::Throttle(429, "30".to_owned())).unwrap();
    let agent = Agent::after_first_run(&collector.url());
    succeeded(&agent.run(&["run", "hello"]));
    let connections = collector.connections();
    let output = agent.run(&["--debug", "run", "hello"]);
    succeeded(&output);
    assert_eq!(collector.connections(), connections);
    let waits = debug_lines(&output)
        .iter()
        .filter(|line| line.starts_with("not sent: the collector asked to wait until"))
        .count();
    // Each record, and the client_report of them sent at the flush point.
    assert!(waits >= RUN_RECORDS, "{output:?}");
}

/// OTLP 400 and 500 are refused for good: a background batch so refused
/// is dropped (not sent again by the next run), and no back-off follows.
#[test]
fn otlp_400_and_500_are_not_retried_by_a_later_run() {
    for status in [400, 500] {
        let collector = Collector::start_with(Behaviour::Status(status)).unwrap();
        let agent = Agent::after_first_run(&collector.url());
        let run = [
            "--export",
            "otlp",
            "--delivery",
            "background",
            "run",
            "hello",
        ];
        succeeded(&agent.run(&run));
        // The batch, then the client_report that counts it as rejected.
        let refused = collector.requests().len();
        collector.set_behaviour(Behaviour::Status(200));
        assert!(!status_says_wait(&agent), "{status}: no back-off");
        succeeded(&agent.run(&run));
        let bodies: Vec<Value> = collector.requests()[refused..]
            .iter()
            .map(|request| serde_json::from_slice(&request.body).unwrap())
            .collect();
        let sent: Vec<Value> = log_records(&bodies)
            .into_iter()
            .filter(|log| log["eventName"] != "client_report")
            .collect();
        assert_eq!(sent.len(), RUN_RECORDS, "{status}: only the new run's");
    }
}
