//! Deferred delivery seen from outside: the `agent` example run as a
//! process with `--delivery deferred` against a real loopback collector.
//! A run inside the upload interval appends to the shared spool and opens
//! no connection; a due run uploads every pending record exactly once; an
//! opt-out purges them; racing processes upload once between them.

use serde_json::Value;
use std::path::Path;
use telemetry_test_support::agent::{past_notice, stderr, Agent};
use telemetry_test_support::collector::Collector;
use telemetry_test_support::json::now_ms;
use telemetry_test_support::records::assert_each_once;

const DEFERRED: [&str; 3] = ["--delivery", "deferred", "version"];
const EVERY_RUN: [&str; 5] = ["--delivery", "deferred", "--upload-every", "0", "version"];
/// The shared spool and the last-attempt file (see the deferred module).
const SPOOL: &str = "telemetry-deferred.jsonl";
const LAST_UPLOAD: &str = "telemetry-upload-last";

fn spooled(config_dir: &Path) -> usize {
    std::fs::read_to_string(config_dir.join(SPOOL)).map_or(0, |text| text.lines().count())
}

/// An agent past its notice whose first deferred run has uploaded (no
/// upload was recorded yet, so it was due).
fn agent_after_one_upload(collector: &Collector) -> Agent {
    let agent = Agent::after_first_run(&collector.url());
    agent.run_ok(&DEFERRED, &[]);
    assert_eq!(collector.records().len(), 1, "the first upload");
    assert_eq!(spooled(&agent.config_dir()), 0);
    agent
}

#[test]
fn runs_within_the_interval_open_no_connection_then_a_due_run_delivers_each_record_once() {
    let collector = Collector::start().unwrap();
    let agent = agent_after_one_upload(&collector);
    let connections = collector.connections();
    for _ in 0..49 {
        agent.run_ok(&DEFERRED, &[]);
    }
    assert_eq!(collector.connections(), connections, "no connection");
    assert_eq!(collector.records().len(), 1);
    assert_eq!(spooled(&agent.config_dir()), 49);

    agent.run_ok(&EVERY_RUN, &[]);
    let records = collector.records();
    assert_eq!(records.len(), 1 + 50, "every pending record, and its own");
    assert_each_once(&records);
    assert_eq!(spooled(&agent.config_dir()), 0);
    // Nothing left: the next run with nothing due opens no connection.
    let connections = collector.connections();
    agent.run_ok(&DEFERRED, &[]);
    assert_eq!(collector.connections(), connections);
}

#[test]
fn an_opt_out_in_between_purges_what_was_deferred() {
    let collector = Collector::start().unwrap();
    let agent = agent_after_one_upload(&collector);
    for _ in 0..5 {
        agent.run_ok(&DEFERRED, &[]);
    }
    assert_eq!(spooled(&agent.config_dir()), 5);
    // A run with telemetry off by variable purges too.
    agent.run_ok(&DEFERRED, &[("DO_NOT_TRACK", "1")]);
    assert!(!agent.config_dir().join(SPOOL).exists(), "purged");

    for _ in 0..3 {
        agent.run_ok(&DEFERRED, &[]);
    }
    assert_eq!(spooled(&agent.config_dir()), 3);
    agent.run_ok(&["telemetry", "disable"], &[]);
    assert!(!agent.config_dir().join(SPOOL).exists(), "purged");
    agent.run_ok(&["telemetry", "enable"], &[]);

    agent.run_ok(&EVERY_RUN, &[]);
    let records = collector.records();
    assert_eq!(records.len(), 2, "the first upload and the last run's own");
    assert_each_once(&records);
}

#[test]
fn two_processes_racing_the_end_of_the_interval_upload_once_between_them() {
    let collector = Collector::start().unwrap();
    let agent = agent_after_one_upload(&collector);
    let config_dir = agent.config_dir();
    let mut total = 1;
    for round in 0..3 {
        for _ in 0..4 {
            agent.run_ok(&DEFERRED, &[]);
        }
        total += 4;
        // The hour since the last attempt has just passed.
        let ended = now_ms() - 3_600_000 - 1;
        std::fs::write(config_dir.join(LAST_UPLOAD), ended.to_string()).unwrap();
        let requests = collector.requests().len();
        let racers: Vec<_> = (0..2)
            .map(|_| agent.command(&DEFERRED, &[]).spawn().unwrap())
            .collect();
        for mut racer in racers {
            assert!(racer.wait().unwrap().success());
        }
        total += 2;
        assert_eq!(
            collector.requests().len(),
            requests + 1,
            "round {round}: one upload between them"
        );
        let records = collector.records();
        assert_each_once(&records);
        assert_eq!(records.len() + spooled(&config_dir), total, "none lost");
    }
}

#[test]
fn status_says_deferred_and_when_the_next_upload_is_due() {
    let (_collector, agent) = past_notice();
    let status = |args: &[&str]| -> Value {
        let output = agent.run_ok(args, &[]);
        serde_json::from_slice(&output.stdout).expect("the status is JSON")
    };
    let json = status(&["--delivery", "deferred", "telemetry", "status", "--json"]);
    assert_eq!(json["delivery"], "deferred");
    assert_eq!(
        json["next_upload"],
        Value::Null,
        "due: nothing uploaded yet"
    );
    agent.run_ok(&DEFERRED, &[]);
    let before = now_ms();
    let json = status(&["--delivery", "deferred", "telemetry", "status", "--json"]);
    let next = json["next_upload"].as_u64().expect("a time");
    assert!(next > before && next <= before + 3_600_000, "{next}");
    let json = agent.status_json(&[]);
    assert_eq!(json["delivery"], "inline");
    assert!(json.get("next_upload").is_none());
}

#[test]
fn in_ci_deferred_delivers_inline_and_writes_no_spool() {
    let collector = Collector::start().unwrap();
    let agent = agent_after_one_upload(&collector);
    agent.run_ok(&DEFERRED, &[("CI", "true")]);
    assert_eq!(collector.records().len(), 2, "sent at once");
    assert_eq!(spooled(&agent.config_dir()), 0);
}

#[test]
fn log_mode_says_what_would_be_deferred_and_writes_nothing() {
    let (collector, agent) = past_notice();
    let text = stderr(&agent.run_ok(&DEFERRED, &[("TELEMETRY_ENABLED", "log")]));
    assert!(text.contains("would be deferred"), "{text}");
    assert!(text.contains("\"event\":\"command\""), "{text}");
    assert!(!agent.config_dir().join(SPOOL).exists());
    assert_eq!(collector.connections(), 0);
}

#[test]
fn upload_every_is_a_whole_number_and_only_with_deferred_delivery() {
    let agent = Agent::without_endpoint();
    for args in [
        &["--upload-every", "5", "version"][..],
        &["--delivery", "background", "--upload-every", "5", "version"],
        &["--delivery", "deferred", "--upload-every", "1.5", "version"],
        &["--delivery", "deferred", "--upload-every", "-1", "version"],
        &["--delivery", "deferred", "--upload-every"],
    ] {
        let output = agent.run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(stderr(&output).contains("--upload-every"), "{args:?}");
    }
    agent.run_ok(
        &["--delivery", "deferred", "--upload-every", "60", "version"],
        &[],
    );
}
