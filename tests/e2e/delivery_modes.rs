//! Delivery modes seen from outside: the `agent` example run as a process
//! with `--delivery background` (and inline) against real loopback
//! collectors. What a process leaves in its spool is sent by the next run;
//! opting out deletes it; the time budget stops a slow collector.

use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use telemetry_test_support::agent::{agent_binary, stderr, Agent};
use telemetry_test_support::collector::{Behaviour, Collector};

/// The records of one `agent run`.
const RUN_RECORDS: usize = 8;
const RUN: [&str; 4] = ["--delivery", "background", "run", "hello"];
const LONG: Duration = Duration::from_secs(30);

fn event_ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|record| {
            record["properties"]["event_id"]
                .as_str()
                .expect("an event_id")
                .to_owned()
        })
        .collect()
}

fn assert_each_once(records: &[Value]) {
    let ids = event_ids(records);
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "an event arrived twice");
}

fn spooled(config_dir: &Path) -> usize {
    telemetry_core::spool::peek(config_dir).len()
}

fn spool_files(config_dir: &Path) -> usize {
    std::fs::read_dir(config_dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|entry| {
                entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with("telemetry-spool-")
            })
            .count()
    })
}

/// An agent whose first run (the notice) is behind it, whose runs go to
/// `blackhole` and then, with `TELEMETRY_ENDPOINT` overridden, elsewhere.
fn agent_with_leftovers(blackhole: &Collector) -> Agent {
    let agent = Agent::after_first_run(&blackhole.url());
    let output = agent.run(&RUN);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(spooled(&agent.config_dir()), RUN_RECORDS, "kept for later");
    agent
}

#[test]
fn a_background_run_has_delivered_every_record_when_it_exits() {
    let collector = Collector::start().unwrap();
    let agent = Agent::after_first_run(&collector.url());
    let output = agent.run(&RUN);
    assert!(output.status.success(), "{output:?}");
    // No waiting: the process flushed before it exited.
    let records = collector.records();
    assert_eq!(records.len(), RUN_RECORDS);
    assert_each_once(&records);
    assert!(collector.requests().len() < RUN_RECORDS, "batched");
    assert_eq!(spool_files(&agent.config_dir()), 0, "tidied at exit");
}

#[test]
fn after_a_blackhole_the_next_run_delivers_every_earlier_record() {
    let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
    let agent = agent_with_leftovers(&blackhole);
    let collector = Collector::start().unwrap();
    let next = agent.run_with(&RUN, &[("TELEMETRY_ENDPOINT", &collector.url())]);
    assert!(next.status.success(), "{next:?}");
    let records = collector.records();
    assert_eq!(records.len(), 2 * RUN_RECORDS, "0 lost");
    assert_each_once(&records);
    assert_eq!(spooled(&agent.config_dir()), 0);
}

#[test]
fn the_records_of_a_killed_process_arrive_with_the_next_run() {
    let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
    let agent = Agent::after_first_run(&blackhole.url());
    let config_dir = agent.config_dir();
    let mut child = Command::new(agent_binary())
        .args(RUN)
        .env_clear()
        .env("XDG_CONFIG_HOME", agent.xdg_config_home())
        .env("HOME", agent.home())
        .env("TELEMETRY_ENDPOINT", blackhole.url())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Every record is spooled before the command's end waits for the
    // (silent) collector; kill it then, with no chance to flush.
    let deadline = Instant::now() + LONG;
    while spooled(&config_dir) < RUN_RECORDS && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(spooled(&config_dir), RUN_RECORDS);

    let collector = Collector::start().unwrap();
    let next = agent.run_with(&RUN, &[("TELEMETRY_ENDPOINT", &collector.url())]);
    assert!(next.status.success(), "{next:?}");
    let records = collector.records();
    assert_eq!(records.len(), 2 * RUN_RECORDS);
    assert_each_once(&records);
}

#[test]
fn ten_processes_at_once_then_a_normal_run_deliver_every_record_exactly_once() {
    let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
    let agent = agent_with_leftovers(&blackhole);
    let collector = Collector::start().unwrap();
    let url = collector.url();
    let children: Vec<_> = (0..10)
        .map(|_| {
            Command::new(agent_binary())
                .args(RUN)
                .env_clear()
                .env("XDG_CONFIG_HOME", agent.xdg_config_home())
                .env("HOME", agent.home())
                .env("TELEMETRY_ENDPOINT", &url)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let last = agent.run_with(&RUN, &[("TELEMETRY_ENDPOINT", &url)]);
    assert!(last.status.success(), "{last:?}");
    let records = collector.records();
    // The leftovers of the blackhole run, ten runs, and the last one.
    assert_eq!(records.len(), 12 * RUN_RECORDS);
    assert_each_once(&records);
    assert_eq!(spooled(&agent.config_dir()), 0);
}

#[test]
fn opting_out_by_either_variable_deletes_the_spool_and_nothing_arrives() {
    for (name, value) in [("DO_NOT_TRACK", "1"), ("TELEMETRY_ENABLED", "false")] {
        let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
        let agent = agent_with_leftovers(&blackhole);
        let collector = Collector::start().unwrap();
        let url = collector.url();
        let off = agent.run_with(&RUN, &[("TELEMETRY_ENDPOINT", &url), (name, value)]);
        assert!(off.status.success(), "{off:?}");
        assert_eq!(spool_files(&agent.config_dir()), 0, "{name}: deleted");
        assert!(collector.requests().is_empty(), "{name}");
        // Telemetry on again: only the new run's records, ever.
        let on = agent.run_with(&RUN, &[("TELEMETRY_ENDPOINT", &url)]);
        assert!(on.status.success(), "{on:?}");
        assert_eq!(collector.records().len(), RUN_RECORDS, "{name}");
    }
}

#[test]
fn a_collector_answering_just_under_the_timeout_stops_inline_delivery_at_the_budget() {
    // 1.9 s per answer, under the agent's 2 s timeout; budget 4 s.
    let slow = Collector::start_with(Behaviour::Delay(Duration::from_millis(1_900))).unwrap();
    let agent = Agent::after_first_run(&slow.url());
    let output = agent.run(&["--debug", "run", "hello"]);
    assert!(output.status.success(), "{output:?}");
    let log = stderr(&output);
    let stopped: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("delivery stopped for the rest of this process"))
        .collect();
    assert_eq!(stopped.len(), 1, "{log}");
    assert!(stopped[0].contains("time budget"), "{log}");
    // Two answers, a third request cut short, and nothing more.
    assert_eq!(slow.wait_for_records(3, LONG).len(), 3);
    assert_eq!(slow.requests().len(), 3, "{log}");
}
