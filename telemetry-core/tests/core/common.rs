//! Helpers that several modules of this test binary share, beside those of
//! `telemetry-test-support`: reading a wire record's properties, asserting
//! what a log or a printed text says, and the surroundings most tests start
//! from (a loopback collector, a temporary dir and a debug log).

use serde_json::Value;
use std::time::Duration;
use telemetry_core::{MemorySink, Outcome, Session, WithTelemetry};
use telemetry_test_support::collector::Collector;
use telemetry_test_support::{MemoryWriter, TempDir};

/// What `sink` received, as wire records (each record's JSON).
pub fn wire(sink: &MemorySink) -> Vec<Value> {
    sink.records()
        .iter()
        .map(|record| serde_json::to_value(record).expect("a record serialises"))
        .collect()
}

/// The string property `key` of a wire record ("" when it is missing or
/// not a string).
pub fn property<'a>(record: &'a Value, key: &str) -> &'a str {
    record["properties"][key].as_str().unwrap_or_default()
}

/// The string property `key` of each record, in order; fails when a record
/// lacks it.
#[track_caller]
pub fn properties_of(records: &[Value], key: &str) -> Vec<String> {
    records
        .iter()
        .map(|record| match record["properties"][key].as_str() {
            Some(value) => value.to_owned(),
            None => panic!("no {key} in {record}"),
        })
        .collect()
}

/// Asserts that `text` contains each of `said` and none of `unsaid`,
/// showing the whole text when it does not.
#[track_caller]
pub fn assert_says(text: &str, said: &[&str], unsaid: &[&str]) {
    for needle in said {
        assert!(text.contains(needle), "{needle:?} is missing from:\n{text}");
    }
    for needle in unsaid {
        assert!(!text.contains(needle), "{needle:?} is in:\n{text}");
    }
}

/// The one line of `lines` that contains `needle`; fails unless exactly
/// one does.
#[track_caller]
pub fn the_line<'a>(lines: &'a [String], needle: &str) -> &'a str {
    let found: Vec<&String> = lines.iter().filter(|line| line.contains(needle)).collect();
    assert_eq!(found.len(), 1, "{needle:?} once in {lines:#?}");
    found[0]
}

/// What most tests start from: a loopback collector that accepts every
/// request, a temporary dir (named after the test's `label`), and a log to
/// hand to the builder's `debug_writer`.
pub fn scene(label: &str) -> (Collector, TempDir, MemoryWriter) {
    let collector = Collector::start().expect("a loopback collector");
    (collector, TempDir::new(label), MemoryWriter::new())
}

/// What [`file_as_config_dir`] writes in its file.
pub const NOT_A_DIR: &str = "not a dir";

/// A new temporary dir (named after `label`) holding a regular file
/// `config` where a config dir would go: nothing can be created in it.
/// Returns the dir (which removes both when dropped) and the file's path.
pub fn file_as_config_dir(label: &str) -> (TempDir, std::path::PathBuf) {
    let root = TempDir::new(label);
    let file = root.join("config");
    std::fs::write(&file, NOT_A_DIR).expect("a file in a new temporary dir");
    (root, file)
}

/// The fields a session `start` record carries, which a `token` record and
/// a session `end` record begin with (DESIGN.md's table of events).
pub const SESSION_START_FIELDS: [&str; 3] = ["action", "session_id", "agent_name"];

/// The counts a `token` record gives for one call and a session `end`
/// record sums over the session.
const TOKEN_COUNTS: [&str; 4] = ["input_tokens", "output_tokens", "total_tokens", "cost"];

/// The fields of a `token` record, in order.
pub fn token_fields() -> Vec<&'static str> {
    [&SESSION_START_FIELDS[..], &["model_name"], &TOKEN_COUNTS].concat()
}

/// The totals a session `end` record carries after its `duration_ms`.
pub fn session_totals() -> Vec<&'static str> {
    let outcome = ["error_count", "is_success", "error"];
    [&["tool_calls"][..], &TOKEN_COUNTS, &outcome].concat()
}

/// Runs `tasks` tasks at once on the current tokio runtime, each carrying
/// `session` (`with_session`) and making `rounds` rounds of: a yield (on a
/// multi-thread runtime, a chance to resume on another worker), a check
/// that a client is current, then a token usage (1 in, 2 out, cost 0.5) and
/// a tool call naming the session by its id, through the free functions.
/// Returns once every task is done.
pub async fn record_in_session_tasks(session: &Session, tasks: usize, rounds: usize) {
    let id = session.id().to_owned();
    let agent = session.agent().to_owned();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (id, agent) = (id.clone(), agent.clone());
            let work = async move {
                for _ in 0..rounds {
                    tokio::task::yield_now().await;
                    assert!(telemetry_core::current().is_some());
                    telemetry_core::record_token_usage("m", 1, 2, 0.5);
                    let outcome = Outcome::Success;
                    telemetry_core::record_tool_call("t", &id, &agent, Duration::ZERO, outcome);
                }
            };
            tokio::spawn(work.with_session(session))
        })
        .collect();
    for handle in handles {
        handle.await.expect("no task panicked");
    }
}
