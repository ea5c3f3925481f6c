//! Delivery modes seen from outside: the `agent` example run as a process
//! with `--delivery background` (and inline) against real loopback
//! collectors. What a process leaves in its spool is sent by the next run;
//! opting out deletes it; the time budget stops a slow collector.

use std::time::{Duration, Instant};
use telemetry_test_support::agent::{past_notice, stderr, Agent};
use telemetry_test_support::collector::{Behaviour, Collector};
use telemetry_test_support::net::refused_endpoint;
use telemetry_test_support::records::assert_each_once;
use telemetry_test_support::spool;

/// The records of one `agent run`.
const RUN_RECORDS: usize = 8;
const RUN: [&str; 4] = ["--delivery", "background", "run", "hello"];
const LONG: Duration = Duration::from_secs(30);

/// An agent whose first run (the notice) is behind it, and whose one
/// background run to `unreachable` (a collector that never answers, or a
/// refusing port: down) left its records in the spool; later runs go
/// elsewhere with `TELEMETRY_ENDPOINT` overridden.
fn agent_with_leftovers(unreachable: &str) -> Agent {
    let agent = Agent::after_first_run(unreachable);
    agent.run_ok(&RUN, &[]);
    assert_eq!(
        spool::pending(&agent.config_dir()).len(),
        RUN_RECORDS,
        "kept for later"
    );
    agent
}

#[test]
fn a_background_run_has_delivered_every_record_when_it_exits() {
    let (collector, agent) = past_notice();
    agent.run_ok(&RUN, &[]);
    // No waiting: the process flushed before it exited.
    let records = collector.records();
    assert_eq!(records.len(), RUN_RECORDS);
    assert_each_once(&records);
    assert!(collector.requests().len() < RUN_RECORDS, "batched");
    assert!(
        spool::files(&agent.config_dir()).is_empty(),
        "tidied at exit"
    );
}

#[test]
fn after_a_blackhole_the_next_run_delivers_every_earlier_record() {
    let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
    let agent = agent_with_leftovers(&blackhole.url());
    let collector = Collector::start().unwrap();
    agent.run_ok(&RUN, &[("TELEMETRY_ENDPOINT", &collector.url())]);
    let records = collector.records();
    assert_eq!(records.len(), 2 * RUN_RECORDS, "0 lost");
    assert_each_once(&records);
    assert!(spool::pending(&agent.config_dir()).is_empty());
}

#[test]
fn the_records_of_a_killed_process_arrive_with_the_next_run() {
    let blackhole = Collector::start_with(Behaviour::Blackhole).unwrap();
    let agent = Agent::after_first_run(&blackhole.url());
    let config_dir = agent.config_dir();
    let mut child = agent.command(&RUN, &[]).spawn().unwrap();
    // Every record is spooled before the command's end waits for the
    // (silent) collector; kill it then, with no chance to flush.
    let deadline = Instant::now() + LONG;
    while spool::pending(&config_dir).len() < RUN_RECORDS && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(spool::pending(&config_dir).len(), RUN_RECORDS);

    let collector = Collector::start().unwrap();
    agent.run_ok(&RUN, &[("TELEMETRY_ENDPOINT", &collector.url())]);
    let records = collector.records();
    assert_eq!(records.len(), 2 * RUN_RECORDS);
    assert_each_once(&records);
}

#[test]
fn ten_processes_at_once_then_a_normal_run_deliver_every_record_exactly_once() {
    // Leftovers of a run while the collector was down (a refusing port:
    // no exit budget spent waiting, unlike a blackhole).
    let agent = agent_with_leftovers(&refused_endpoint());
    let collector = Collector::start().unwrap();
    let url = collector.url();
    let children: Vec<_> = (0..10)
        .map(|_| {
            let mut command = agent.command(&RUN, &[("TELEMETRY_ENDPOINT", &url)]);
            command.spawn().unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    agent.run_ok(&RUN, &[("TELEMETRY_ENDPOINT", &url)]);
    let records = collector.records();
    // The leftovers of the run while it was down, ten runs, and the last one.
    assert_eq!(records.len(), 12 * RUN_RECORDS);
    assert_each_once(&records);
    assert!(spool::pending(&agent.config_dir()).is_empty());
}

#[test]
fn opting_out_by_either_variable_deletes_the_spool_and_nothing_arrives() {
    for (name, value) in [("DO_NOT_TRACK", "1"), ("TELEMETRY_ENABLED", "false")] {
        let agent = agent_with_leftovers(&refused_endpoint());
        let collector = Collector::start().unwrap();
        let url = collector.url();
        agent.run_ok(&RUN, &[("TELEMETRY_ENDPOINT", &url), (name, value)]);
        let left = spool::files(&agent.config_dir());
        assert!(left.is_empty(), "{name}: deleted {left:?}");
        assert!(collector.requests().is_empty(), "{name}");
        // Telemetry on again: only the new run's records, ever.
        agent.run_ok(&RUN, &[("TELEMETRY_ENDPOINT", &url)]);
        assert_eq!(collector.records().len(), RUN_RECORDS, "{name}");
    }
}

#[test]
fn a_collector_answering_just_under_the_timeout_stops_inline_delivery_at_the_budget() {
    // 1.9 s per answer, under the agent's 2 s timeout; budget 4 s.
    let slow = Collector::start_with(Behaviour::Delay(Duration::from_millis(1_900))).unwrap();
    let agent = Agent::after_first_run(&slow.url());
    let log = stderr(&agent.run_ok(&["--debug", "run", "hello"], &[]));
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
