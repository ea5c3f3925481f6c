//! Tool-call roll-ups (`tool_rollup`): the first calls of each tool in a
//! session are sent as `tool` records, the rest fold into one
//! `tool_summary` per tool, sent when the session ends or at a flush point
//! while it is open; the session's totals count every call.

use crate::common::wire;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use telemetry_core::{tracked_tool, MemorySink, Outcome, Telemetry};
use telemetry_test_support::isolated;

fn rollup_client(after: u32) -> (Telemetry, MemorySink) {
    let sink = MemorySink::new();
    let telemetry = isolated("rollup-test", "1.0.0")
        .sink(sink.clone())
        .tool_rollup(after)
        .build();
    (telemetry, sink)
}

fn of_kind<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["event"] == kind).collect()
}

/// Per tool: (individual `tool` records, `calls` summed over summaries).
fn calls_per_tool(records: &[Value]) -> BTreeMap<String, (u64, u64)> {
    let mut per_tool: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for record in records {
        let props = &record["properties"];
        let name = || props["tool_name"].as_str().unwrap().to_owned();
        match record["event"].as_str() {
            Some("tool") => per_tool.entry(name()).or_default().0 += 1,
            Some("tool_summary") => {
                per_tool.entry(name()).or_default().1 += props["calls"].as_u64().unwrap();
            }
            _ => {}
        }
    }
    per_tool
}

#[tracked_tool]
fn lookup(fail: bool) -> std::io::Result<()> {
    if fail {
        Err(std::io::ErrorKind::NotFound.into())
    } else {
        Ok(())
    }
}

#[test]
fn past_the_threshold_calls_fold_into_one_summary_per_tool_with_exact_totals() {
    let (telemetry, sink) = rollup_client(5);
    let session = telemetry.start_session("root");
    let id = session.id().to_owned();
    session.scope(|| {
        for n in 0..40_u64 {
            lookup(n % 4 == 0).ok();
            let outcome = match n % 3 {
                0 => Outcome::failure("TimedOut"),
                1 => Outcome::failure("Refused"),
                _ => Outcome::Success,
            };
            session.record_tool_call("fetch", Duration::from_millis(n), outcome);
        }
    });
    session.end();
    let records = wire(&sink);
    assert_eq!(
        calls_per_tool(&records),
        BTreeMap::from([("fetch".into(), (5, 35)), ("lookup".into(), (5, 35))])
    );
    let summaries = of_kind(&records, "tool_summary");
    assert_eq!(summaries.len(), 2, "one per tool");
    let fetch = &summaries[0]["properties"];
    assert_eq!(fetch["tool_name"], "fetch");
    assert_eq!(fetch["agent_name"], "root");
    assert_eq!(fetch["session_id"], id.as_str());
    // Calls 5..40 of `fetch`: n % 3 == 0 timed out, == 1 refused.
    let timed_out = (5..40).filter(|n| n % 3 == 0).count() as u64;
    let refused = (5..40).filter(|n| n % 3 == 1).count() as u64;
    assert_eq!(fetch["errors"], timed_out + refused);
    assert_eq!(
        fetch["error_kinds"],
        serde_json::json!({"TimedOut": timed_out, "Refused": refused})
    );
    assert_eq!(fetch["duration_ms_total"], (5..40).sum::<u64>());
    assert_eq!(fetch["duration_ms_max"], 39);
    let lookup = &summaries[1]["properties"];
    let not_found = (5..40).filter(|n| n % 4 == 0).count() as u64;
    assert_eq!(lookup["errors"], not_found);
    assert_eq!(
        lookup["error_kinds"],
        serde_json::json!({ "NotFound": not_found })
    );
    // The summaries come before the session's end, whose totals count
    // every call.
    let end = records.last().unwrap();
    assert_eq!(end["properties"]["action"], "end");
    assert_eq!(end["properties"]["tool_calls"], 80);
    assert_eq!(end["properties"]["error_count"], 10 + 2 * 13 + 1);
    assert_eq!(records.len(), 1 + 10 + 2 + 1);
}

/// The sink received `calls` tool records and no summary.
fn assert_each_call_is_a_record(sink: &MemorySink, calls: usize) {
    let records = wire(sink);
    assert_eq!(of_kind(&records, "tool").len(), calls);
    assert!(of_kind(&records, "tool_summary").is_empty());
}

#[test]
fn without_tool_rollup_every_call_is_a_record() {
    let (telemetry, sink) = telemetry_test_support::memory_client("rollup-off");
    let session = telemetry.start_session("root");
    for _ in 0..200 {
        session.record_tool_call("t", Duration::ZERO, Outcome::Success);
    }
    session.end();
    assert_each_call_is_a_record(&sink, 200);
}

#[test]
fn an_open_session_sends_its_summaries_at_a_flush_and_later_calls_start_a_new_one() {
    let (telemetry, sink) = rollup_client(1);
    let session = telemetry.start_session("root");
    for _ in 0..4 {
        session.record_tool_call("t", Duration::ZERO, Outcome::Success);
    }
    telemetry.flush(Duration::from_secs(1));
    let records = wire(&sink);
    let summaries = of_kind(&records, "tool_summary");
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0]["properties"]["calls"], 3);
    // A second flush has nothing new to say.
    telemetry.flush(Duration::from_secs(1));
    assert_eq!(of_kind(&wire(&sink), "tool_summary").len(), 1);
    for _ in 0..2 {
        session.record_tool_call("t", Duration::ZERO, Outcome::Success);
    }
    // The flush guard's drop (the program's exit) is a flush point too.
    drop(telemetry.flush_guard());
    let records = wire(&sink);
    let calls: Vec<u64> = of_kind(&records, "tool_summary")
        .iter()
        .map(|s| s["properties"]["calls"].as_u64().unwrap())
        .collect();
    assert_eq!(calls, [3, 2]);
    session.end();
    let records = wire(&sink);
    assert_eq!(of_kind(&records, "tool_summary").len(), 2, "nothing left");
    assert_eq!(records.last().unwrap()["properties"]["tool_calls"], 6);
}

#[test]
fn calls_outside_a_running_session_are_never_folded() {
    let (telemetry, sink) = rollup_client(0);
    for _ in 0..3 {
        telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
        telemetry.record_tool_call("t", "not-a-live-id", "a", Duration::ZERO, Outcome::Success);
    }
    telemetry.flush(Duration::from_secs(1));
    assert_each_call_is_a_record(&sink, 6);
}

#[test]
fn each_session_folds_its_own_calls() {
    let (telemetry, sink) = rollup_client(2);
    let parent = telemetry.start_session("parent");
    let child = telemetry.start_session("child");
    for _ in 0..5 {
        parent.record_tool_call("t", Duration::ZERO, Outcome::Success);
        child.record_tool_call("t", Duration::ZERO, Outcome::Success);
    }
    child.end();
    parent.end();
    let records = wire(&sink);
    let summaries = of_kind(&records, "tool_summary");
    let agents: Vec<(&str, u64)> = summaries
        .iter()
        .map(|s| {
            (
                s["properties"]["agent_name"].as_str().unwrap(),
                s["properties"]["calls"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(agents, [("child", 3), ("parent", 3)]);
    assert_eq!(of_kind(&records, "tool").len(), 4);
}
