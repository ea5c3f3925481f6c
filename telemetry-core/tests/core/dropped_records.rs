//! The per-process cap (`max_records`) and the `client_report`: records
//! dropped before they could be sent are counted by reason, and the counts
//! reach the collector as one `client_report` in the next batch that goes
//! out (or at a flush point), never about records an opt-out removed.

use crate::common::wire;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use telemetry_core::{
    Delivery, MemorySink, Outcome, Record, SendError, Sink, Telemetry, DEFAULT_MAX_RECORDS,
};
use telemetry_test_support::collector::{Behaviour, Collector};
use telemetry_test_support::{isolated, MemoryWriter, TempDir};

const LONG: Duration = Duration::from_secs(10);

fn record_tools(telemetry: &Telemetry, count: usize) {
    for _ in 0..count {
        telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    }
}

fn reports(records: &[Value]) -> Vec<Value> {
    records
        .iter()
        .filter(|r| r["event"] == "client_report")
        .map(|r| r["properties"]["dropped"].clone())
        .collect()
}

#[test]
fn the_default_cap_is_ten_thousand() {
    assert_eq!(DEFAULT_MAX_RECORDS, 10_000);
    let (telemetry, sink) = telemetry_test_support::memory_client("cap-default");
    record_tools(&telemetry, 10_001);
    telemetry.flush(LONG);
    let records = wire(&sink);
    assert_eq!(records.len(), 10_001);
    assert_eq!(reports(&records), [json!({"cap": 1})]);
}

#[test]
fn a_cap_of_ten_sends_ten_records_and_a_client_report_with_the_rest() {
    let sink = MemorySink::new();
    let log = MemoryWriter::new();
    let telemetry = isolated("cap-test", "1.0.0")
        .sink(sink.clone())
        .debug_writer(log.clone())
        .max_records(10)
        .build();
    record_tools(&telemetry, 25);
    assert_eq!(sink.records().len(), 10, "nothing past the cap");
    telemetry.flush(LONG);
    let records = wire(&sink);
    assert_eq!(records.len(), 11);
    assert_eq!(records[10]["event"], "client_report");
    assert_eq!(reports(&records), [json!({"cap": 15})]);
    // The report carries the common fields, like every record.
    assert!(records[10]["properties"]["user_uuid"].is_string());
    assert_eq!(
        log.count("reached its cap of 10 records"),
        1,
        "said once: {}",
        log.text()
    );
    // Counted once: a second flush has nothing to report.
    telemetry.flush(LONG);
    assert_eq!(sink.records().len(), 11);
}

#[test]
fn counts_go_out_with_the_next_batch_that_goes_out() {
    // Refused for good: the record is counted as dropped, `rejected`.
    let collector = Collector::start_with(Behaviour::Status(400)).unwrap();
    let telemetry = isolated("report-test", "1.0.0")
        .endpoint(collector.url())
        .build();
    record_tools(&telemetry, 1);
    collector.set_behaviour(Behaviour::Accept);
    record_tools(&telemetry, 1);
    let requests = collector.requests();
    assert_eq!(requests.len(), 2);
    let second: Value = serde_json::from_slice(&requests[1].body).unwrap();
    let kinds: Vec<&str> = second["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["tool", "client_report"], "in the same batch");
    assert_eq!(
        second["records"][1]["properties"]["dropped"],
        json!({"rejected": 1})
    );
    record_tools(&telemetry, 1);
    assert_eq!(reports(&collector.records()).len(), 1, "reported once");
}

#[test]
fn background_delivery_sends_the_report_in_the_batch_after_the_drops() {
    let dir = TempDir::new("cap-background");
    let collector = Collector::start().unwrap();
    let telemetry = Telemetry::builder("cap-test", "1.0.0")
        .endpoint(collector.url())
        .config_dir(dir.path())
        .notice(false)
        .env(|_| None)
        .delivery(Delivery::Background)
        .max_records(3)
        .build();
    record_tools(&telemetry, 7);
    drop(telemetry.flush_guard());
    let records = collector.wait_for_records(4, LONG);
    assert_eq!(records.len(), 4);
    assert_eq!(reports(&records), [json!({"cap": 4})]);
    assert!(telemetry_test_support::spool::pending(dir.path()).is_empty());
}

#[test]
fn log_mode_and_a_held_first_run_are_not_capped_and_report_nothing() {
    let log = MemoryWriter::new();
    let telemetry = isolated("cap-test", "1.0.0")
        .env_vars([("TELEMETRY_ENABLED", "log")])
        .debug(false)
        .debug_writer(log.clone())
        .max_records(1)
        .build();
    record_tools(&telemetry, 3);
    telemetry.flush(LONG);
    assert_eq!(log.count("\"event\":\"tool\""), 3);
    assert_eq!(log.count("client_report"), 0);

    let dir = TempDir::new("cap-first-run");
    let collector = Collector::start().unwrap();
    let first = Telemetry::builder("cap-test", "1.0.0")
        .endpoint(collector.url())
        .config_dir(dir.path())
        .env(|_| None)
        .notice_writer(MemoryWriter::new())
        .max_records(1)
        .build();
    record_tools(&first, 3);
    drop(first.flush_guard());
    assert_eq!(collector.connections(), 0);
}

/// A sink that fails every send while `down` is set, else keeps records.
#[derive(Clone, Default)]
struct Flaky {
    down: Arc<AtomicBool>,
    kept: MemorySink,
}

impl Sink for Flaky {
    fn send(&self, records: &[Record]) -> Result<(), SendError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(SendError::Transport("down".into()));
        }
        self.kept.send(records)
    }
}

#[test]
fn a_report_that_could_not_be_sent_is_sent_with_a_later_batch() {
    let flaky = Flaky::default();
    let telemetry = isolated("report-test", "1.0.0")
        .sink(flaky.clone())
        .max_records(1)
        .build();
    record_tools(&telemetry, 3);
    flaky.down.store(true, Ordering::SeqCst);
    telemetry.flush(LONG);
    record_tools(&telemetry, 1);
    flaky.down.store(false, Ordering::SeqCst);
    telemetry.flush(LONG);
    let records = wire(&flaky.kept);
    assert_eq!(records.len(), 2);
    assert_eq!(reports(&records), [json!({"cap": 3})], "none lost");
}
