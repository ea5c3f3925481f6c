//! Inline delivery over real loopback HTTP.

use crate::common::record_in_session_tasks;
use std::time::Duration;
use telemetry_core::{Outcome, Telemetry};
use telemetry_test_support::collector::{Behaviour, Collector};
use telemetry_test_support::isolated;
use telemetry_test_support::net::refused_addr;

/// A client whose timeout and time budget a busy machine never reaches:
/// no test here is about them (`delivery_faults` is), and a loaded
/// machine's slow answers would otherwise spend the default budget.
fn client(endpoint: &str) -> Telemetry {
    isolated("http-test", "9.9.9")
        .endpoint(endpoint)
        .api_key("sk-test-key")
        .timeout(Duration::from_secs(30))
        .time_budget(Duration::from_secs(3_600))
        .build()
}

#[test]
fn the_collector_has_the_event_when_the_call_returns() {
    let collector = Collector::start().unwrap();
    let telemetry = client(&collector.url());
    telemetry.track_command("version", ["--debug"]);
    // No waiting: inline delivery means it is already there.
    let records = collector.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["event"], "command");
    assert_eq!(records[0]["properties"]["action"], "version");

    let request = &collector.requests()[0];
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("user-agent"), Some("http-test/9.9.9"));
    assert_eq!(request.header("x-api-key"), Some("sk-test-key"));
}

#[test]
fn connections_are_reused() {
    let collector = Collector::start().unwrap();
    let telemetry = client(&collector.url());
    for _ in 0..20 {
        telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    }
    assert_eq!(collector.records().len(), 20);
    assert_eq!(collector.connections(), 1);
}

#[test]
fn a_500_is_survived_and_delivery_goes_on() {
    let collector = Collector::start_with(Behaviour::Status(500)).unwrap();
    let telemetry = client(&collector.url());
    telemetry.track_command("first", Vec::<String>::new());
    collector.set_behaviour(Behaviour::Accept);
    telemetry.track_command("second", Vec::<String>::new());
    assert_eq!(collector.requests().len(), 2);
    // The refused record is counted, and reported with the next one.
    let records = collector.records();
    assert_eq!(records.len(), 3);
    assert_eq!(records[2]["event"], "client_report");
    assert_eq!(records[2]["properties"]["dropped"]["rejected"], 1);
}

#[test]
fn after_a_refused_connection_the_next_1000_calls_touch_no_socket() {
    let addr = refused_addr();
    let telemetry = client(&format!("http://{addr}/v1/events"));
    telemetry.track_command("first", Vec::<String>::new());

    // Now listen on that port: a sender that still tried would connect.
    let listener = std::net::TcpListener::bind(addr).unwrap();
    listener.set_nonblocking(true).unwrap();
    for _ in 0..1_000 {
        telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    }
    let attempt = listener.accept();
    assert!(
        matches!(&attempt, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "delivery should have stopped, but a connection came in: {attempt:?}"
    );
}

#[test]
fn a_stale_pooled_connection_does_not_lose_the_next_event() {
    let collector = Collector::start_with(Behaviour::CloseAfterAnswer).unwrap();
    let telemetry = client(&collector.url());
    for round in 0..5 {
        telemetry.track_command("cmd", Vec::<String>::new());
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(collector.records().len(), round + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_inside_a_multi_thread_runtime() {
    let collector = Collector::start().unwrap();
    let telemetry = client(&collector.url());
    telemetry.track_command("async", Vec::<String>::new());
    assert_eq!(collector.records().len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn works_inside_a_current_thread_runtime() {
    let collector = Collector::start().unwrap();
    let telemetry = client(&collector.url());
    telemetry.track_command("async", Vec::<String>::new());
    let spawned = tokio::spawn({
        let telemetry = telemetry.clone();
        async move { telemetry.track_command("spawned", Vec::<String>::new()) }
    });
    spawned.await.unwrap();
    assert_eq!(collector.records().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_spread_over_tasks_is_delivered_with_its_totals() {
    let collector = Collector::start().unwrap();
    let telemetry = client(&collector.url());
    let session = telemetry.start_session("async-agent");
    let id = session.id().to_owned();
    record_in_session_tasks(&session, 4, 5).await;
    session.end();
    let records = collector.records();
    assert_eq!(records.len(), 1 + 40 + 1);
    let end = &records[41]["properties"];
    assert_eq!(end["action"], "end");
    assert_eq!(end["session_id"], id.as_str());
    assert_eq!(end["tool_calls"], 20);
    assert_eq!(end["input_tokens"], 20);
    assert_eq!(end["output_tokens"], 40);
    assert_eq!(end["cost"], 10.0);
    assert!(records[1..41]
        .iter()
        .all(|r| r["properties"]["session_id"] == id.as_str()));
}
