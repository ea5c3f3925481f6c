//! Sessions and context: each session's totals, per-call token cost,
//! nested sessions kept apart, the guard ending on drop, and which client
//! and session are current in scopes, free functions and async tasks.
//!
//! No test in this process calls `set_global` (`global_client` runs its
//! tests alone), so "no current client" is a state these tests rely on.

use crate::common::{record_in_session_tasks, session_totals, wire};
use serde_json::{json, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};
use telemetry_core::{current, MemorySink, Outcome, Session, Telemetry, WithTelemetry};
use telemetry_test_support::memory_client;

fn client() -> (Telemetry, MemorySink) {
    memory_client("session-test")
}

/// A [`client`], a session of `agent` started on it, and the session's id.
fn client_in_session(agent: &'static str) -> (Telemetry, MemorySink, Session, String) {
    let (telemetry, sink) = client();
    let session = telemetry.start_session(agent);
    let id = session.id().to_owned();
    (telemetry, sink, session, id)
}

/// Ends `session`; returns every record sent, and the `cost` of each token
/// record in order.
fn end_and_token_costs(session: Session, sink: &MemorySink) -> (Vec<Value>, Vec<Value>) {
    session.end();
    let records = wire(sink);
    let costs = records
        .iter()
        .filter(|r| r["event"] == "token")
        .map(|r| r["properties"]["cost"].clone())
        .collect();
    (records, costs)
}

/// The properties of the session end event of `session_id` (exactly one).
fn end_of(records: &[Value], session_id: &str) -> Value {
    let ends: Vec<&Value> = records
        .iter()
        .filter(|r| r["event"] == "session" && r["properties"]["action"] == "end")
        .filter(|r| r["properties"]["session_id"] == session_id)
        .collect();
    assert_eq!(
        ends.len(),
        1,
        "one end event for {session_id}: {records:#?}"
    );
    ends[0]["properties"].clone()
}

/// The end event of session `id` carries exactly these totals.
#[track_caller]
fn assert_totals(records: &[Value], id: &str, expected: Value) {
    assert_eq!(totals(&end_of(records, id)), expected, "session {id}");
}

/// The totals of an end event, without the volatile and common fields.
fn totals(end: &Value) -> Value {
    session_totals()
        .into_iter()
        .map(|key| (key.to_owned(), end[key].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn kinds(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| match r["properties"]["action"].as_str() {
            Some(action @ ("start" | "end")) => format!("session {action}"),
            _ => r["event"].as_str().unwrap().to_owned(),
        })
        .collect()
}

#[test]
fn the_end_event_carries_the_session_totals() {
    let (telemetry, sink) = client();
    let started = Instant::now();
    let session = telemetry.start_session("root");
    let id = session.id().to_owned();
    session.scope(|| {
        // Four calls naming the session: a success, two failures of one
        // kind, a cancellation.
        let outcomes = [
            ("a", Outcome::Success),
            ("b", Outcome::failure("Timeout")),
            ("c", Outcome::Cancelled),
            ("d", Outcome::failure("Timeout")),
        ];
        for (tool, outcome) in outcomes {
            telemetry.record_tool_call(tool, &id, "root", Duration::ZERO, outcome);
        }
        telemetry.record_token_usage("gpt-4o", 100, 20, 0.5);
        telemetry.record_token_usage("gpt-4o", 50, 5, 0.25);
        telemetry_core::record_token_usage("mini", 10, 0, 0.125);
    });
    session.record_tool_call("e", Duration::ZERO, Outcome::Panicked);
    session.record_token_usage("mini", 0, 7, 0.0);
    session.record_error("BudgetExceeded");
    std::thread::sleep(Duration::from_millis(30));
    session.end();
    let outer = started.elapsed();

    let records = wire(&sink);
    let end = end_of(&records, &id);
    assert_eq!(
        totals(&end),
        json!({
            "tool_calls": 5,
            "input_tokens": 160,
            "output_tokens": 32,
            "total_tokens": 192,
            "cost": 0.875,
            "error_count": 5,
            "is_success": false,
            // Distinct kinds, in the order first seen.
            "error": ["Timeout", "cancelled", "panic", "BudgetExceeded"],
        })
    );
    let duration = end["duration_ms"].as_u64().expect("an integer");
    assert!(
        duration >= 30,
        "the session lasted at least the sleep: {duration}"
    );
    assert!(
        u128::from(duration) <= outer.as_millis(),
        "no longer than measured around it: {duration} > {outer:?}"
    );
    // Every tool and token event names the session.
    for record in &records {
        assert_eq!(record["properties"]["session_id"], id.as_str(), "{record}");
        assert_eq!(record["properties"]["agent_name"], "root", "{record}");
    }
}

#[test]
fn a_session_without_errors_is_a_success() {
    let (telemetry, sink) = client();
    let session = telemetry.start_session("ok");
    session.record_tool_call("t", Duration::ZERO, Outcome::Success);
    let id = session.id().to_owned();
    session.end();
    let end = end_of(&wire(&sink), &id);
    assert_eq!(end["is_success"], true);
    assert_eq!(end["error_count"], 0);
    assert_eq!(end["error"], json!([]));
    assert_eq!(end["tool_calls"], 1);
}

#[test]
fn each_token_event_carries_its_own_cost_not_a_running_total() {
    let (telemetry, sink, session, id) = client_in_session("root");
    let costs = [0.5, 0.25, 0.125, 0.0625];
    session.scope(|| {
        for cost in costs {
            telemetry.record_token_usage("m", 1, 1, cost);
        }
    });
    let (records, sent) = end_and_token_costs(session, &sink);
    assert_eq!(sent, costs.map(|cost| json!(cost)));
    assert_eq!(end_of(&records, &id)["cost"], 0.9375);
}

#[test]
fn a_bad_cost_counts_as_zero() {
    let (_telemetry, sink, session, id) = client_in_session("root");
    for cost in [f64::NAN, f64::INFINITY, -1.0, 0.5] {
        session.record_token_usage("m", 1, 0, cost);
    }
    let (records, sent) = end_and_token_costs(session, &sink);
    assert_eq!(sent, [json!(0.0), json!(0.0), json!(0.0), json!(0.5)]);
    assert_eq!(end_of(&records, &id)["cost"], 0.5);
}

#[test]
fn regression_tool_calls_named_by_session_id_outside_its_scope_were_not_counted() {
    // Bug: `record_tool_call(tool, session_id, ..)` counted toward a session
    // only where that session was current (`Session::scope`), so a call that
    // named a running session from elsewhere was sent with its id while the
    // session's end event said `tool_calls: 0`.
    let (telemetry, sink, session, id) = client_in_session("root");
    telemetry.record_tool_call("a", &id, "root", Duration::ZERO, Outcome::Success);
    telemetry.scope(|| {
        telemetry_core::record_tool_call("b", &id, "root", Duration::ZERO, Outcome::failure("E"));
    });
    std::thread::scope(|scope| {
        scope.spawn(|| {
            telemetry.record_tool_call("c", &id, "root", Duration::ZERO, Outcome::Success);
        });
    });
    session.end();
    // After the end, the id names no running session: the call is sent as
    // given and no second end event follows.
    telemetry.record_tool_call("late", &id, "root", Duration::ZERO, Outcome::Success);

    let records = wire(&sink);
    let end = end_of(&records, &id);
    assert_eq!(end["tool_calls"], 3, "{records:#?}");
    assert_eq!(end["error_count"], 1);
    assert_eq!(end["error"], json!(["E"]));
    let tool_sessions: Vec<&str> = records
        .iter()
        .filter(|r| r["event"] == "tool")
        .map(|r| r["properties"]["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(tool_sessions, [id.as_str(); 4]);
    assert_eq!(
        kinds(&records),
        [
            "session start",
            "tool",
            "tool",
            "tool",
            "session end",
            "tool"
        ]
    );
}

#[test]
fn nested_sessions_keep_their_own_totals() {
    let (telemetry, sink, parent, parent_id) = client_in_session("parent");
    let child_id = parent.scope(|| {
        telemetry.record_tool_call("p1", &parent_id, "parent", Duration::ZERO, Outcome::Success);
        telemetry.record_token_usage("m", 10, 1, 0.5);

        let child = telemetry_core::start_session("child");
        let child_id = child.id().to_owned();
        assert_ne!(child_id, parent_id);
        child.scope(|| {
            telemetry.record_tool_call("c1", &child_id, "child", Duration::ZERO, Outcome::Success);
            telemetry.record_tool_call(
                "c2",
                &child_id,
                "child",
                Duration::ZERO,
                Outcome::failure("ChildError"),
            );
            telemetry.record_token_usage("m", 100, 10, 0.25);
            // Naming the parent from inside the child counts for the parent.
            telemetry.record_tool_call(
                "p2",
                &parent_id,
                "parent",
                Duration::ZERO,
                Outcome::Success,
            );
        });
        child.end();

        // Back in the parent: the child's end did not touch it.
        telemetry.record_token_usage("m", 1, 1, 0.125);
        child_id
    });
    parent.end();

    let records = wire(&sink);
    assert_totals(
        &records,
        &child_id,
        json!({
            "tool_calls": 2, "input_tokens": 100, "output_tokens": 10, "total_tokens": 110,
            "cost": 0.25, "error_count": 1, "is_success": false, "error": ["ChildError"],
        }),
    );
    assert_totals(
        &records,
        &parent_id,
        json!({
            "tool_calls": 2, "input_tokens": 11, "output_tokens": 2, "total_tokens": 13,
            "cost": 0.625, "error_count": 0, "is_success": true, "error": [],
        }),
    );
    // Each event names the session it belongs to.
    let session_of = |kind: &str, field: &str, value: &str| -> Vec<String> {
        records
            .iter()
            .filter(|r| r["event"] == kind && r["properties"][field] == value)
            .map(|r| r["properties"]["session_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(session_of("tool", "tool_name", "p2"), [parent_id.as_str()]);
    assert_eq!(session_of("tool", "tool_name", "c1"), [child_id.as_str()]);
    let token_sessions: Vec<&str> = records
        .iter()
        .filter(|r| r["event"] == "token")
        .map(|r| r["properties"]["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(token_sessions, [&parent_id, &child_id, &parent_id]);
}

#[test]
fn sibling_sessions_on_two_threads_do_not_mix() {
    let (telemetry, sink) = client();
    let ids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..=2u64)
            .map(|n| {
                let telemetry = telemetry.clone();
                scope.spawn(move || {
                    let session = telemetry.start_session(format!("agent-{n}"));
                    session.scope(|| {
                        for _ in 0..50 * n {
                            telemetry.record_token_usage("m", n, 0, 0.0);
                        }
                    });
                    let id = session.id().to_owned();
                    session.end();
                    id
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let records = wire(&sink);
    assert_eq!(end_of(&records, &ids[0])["input_tokens"], 50);
    assert_eq!(end_of(&records, &ids[1])["input_tokens"], 200);
}

#[test]
fn dropping_the_guard_ends_the_session_once() {
    let (telemetry, sink) = client();
    let id = {
        let session = telemetry.start_session("dropped");
        session.record_tool_call("t", Duration::ZERO, Outcome::Success);
        session.id().to_owned()
    };
    let records = wire(&sink);
    assert_eq!(kinds(&records), ["session start", "tool", "session end"]);
    assert_eq!(end_of(&records, &id)["tool_calls"], 1);

    // `end()` sends it once; the guard is consumed.
    let session = telemetry.start_session("ended");
    let id = session.id().to_owned();
    session.end();
    end_of(&wire(&sink), &id);
}

#[test]
fn a_session_dropped_by_a_panic_ends_with_a_panic_error() {
    let (telemetry, sink) = client();
    let mut id = String::new();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let session = telemetry.start_session("doomed");
        id = session.id().to_owned();
        session.scope(|| panic!("boom"));
    }));
    assert!(result.is_err());
    let end = end_of(&wire(&sink), &id);
    assert_eq!(end["error"], json!(["panic"]));
    assert_eq!(end["is_success"], false);
    // The scope was left while unwinding.
    assert!(current().is_none());
}

#[test]
fn free_functions_do_nothing_without_a_current_client() {
    let (_unscoped, sink) = client();
    assert!(current().is_none());
    telemetry_core::track_command("run", ["--x"]);
    telemetry_core::record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    telemetry_core::record_token_usage("m", 1, 1, 0.1);
    let session = telemetry_core::start_session("nobody");
    assert_eq!(session.id(), "");
    assert_eq!(session.agent(), "");
    session.scope(|| {
        assert!(current().is_none());
        telemetry_core::record_token_usage("m", 1, 1, 0.1);
    });
    session.end();
    assert!(sink.records().is_empty());
}

#[test]
fn free_functions_use_the_innermost_scoped_client() {
    let (outer, outer_sink) = client();
    let (inner, inner_sink) = client();
    outer.scope(|| {
        telemetry_core::track_command("outer-1", Vec::<String>::new());
        inner.scope(|| {
            telemetry_core::track_command("inner", Vec::<String>::new());
            telemetry_core::record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
            telemetry_core::record_token_usage("m", 1, 1, 0.1);
            telemetry_core::start_session("s").end();
        });
        telemetry_core::track_command("outer-2", Vec::<String>::new());
    });
    assert!(current().is_none(), "the scope ends with the closure");
    let actions = |sink: &MemorySink| -> Vec<Value> {
        wire(sink)
            .iter()
            .map(|r| r["properties"]["action"].clone())
            .collect()
    };
    assert_eq!(actions(&outer_sink), ["outer-1", "outer-2"]);
    assert_eq!(
        actions(&inner_sink),
        ["inner", "call", "usage", "start", "end"]
    );
}

#[test]
fn a_scoped_disabled_client_silences_free_functions() {
    let (enabled, sink) = client();
    enabled.scope(|| {
        Telemetry::disabled().scope(|| {
            assert!(current().is_some_and(|t| !t.is_enabled()));
            telemetry_core::track_command("hidden", Vec::<String>::new());
        });
        telemetry_core::track_command("seen", Vec::<String>::new());
    });
    let records = wire(&sink);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["properties"]["action"], "seen");
}

#[test]
fn a_scope_is_left_when_its_closure_panics() {
    let (telemetry, _sink) = client();
    let result = catch_unwind(AssertUnwindSafe(|| telemetry.scope(|| panic!("boom"))));
    assert!(result.is_err());
    assert!(current().is_none());
}

#[test]
fn session_scope_makes_the_session_and_its_client_current() {
    let (telemetry, sink, session, id) = client_in_session("root");
    session.scope(|| {
        assert!(current().is_some_and(|t| t.is_enabled()));
        telemetry_core::record_token_usage("m", 3, 4, 0.5);
        telemetry_core::record_tool_call("t", &id, "root", Duration::ZERO, Outcome::Success);
    });
    assert!(current().is_none());
    // Outside the scope, token usage belongs to no session.
    telemetry.record_token_usage("m", 1000, 1000, 1.0);
    session.end();
    let records = wire(&sink);
    let end = end_of(&records, &id);
    assert_eq!(end["input_tokens"], 3);
    assert_eq!(end["output_tokens"], 4);
    assert_eq!(end["tool_calls"], 1);
    let outside = records
        .iter()
        .find(|r| r["properties"]["input_tokens"] == 1000 && r["event"] == "token")
        .unwrap();
    assert_eq!(outside["properties"]["session_id"], "");
}

#[test]
fn another_clients_session_is_not_this_clients_session() {
    let (a, a_sink) = client();
    let (b, b_sink) = client();
    let session = a.start_session("a-agent");
    let id = session.id().to_owned();
    session.scope(|| {
        b.record_token_usage("m", 5, 5, 0.5);
        b.record_tool_call("t", &id, "a-agent", Duration::ZERO, Outcome::Success);
    });
    session.end();
    let end = end_of(&wire(&a_sink), &id);
    assert_eq!(end["tool_calls"], 0);
    assert_eq!(end["input_tokens"], 0);
    let b_records = wire(&b_sink);
    assert_eq!(b_records.len(), 2);
    assert_eq!(b_records[0]["properties"]["session_id"], "");
}

#[test]
fn a_disabled_clients_session_is_inert() {
    let session = Telemetry::disabled().start_session("agent");
    assert_eq!(session.id(), "");
    session.record_tool_call("t", Duration::ZERO, Outcome::Success);
    session.scope(|| assert!(current().is_none()));
    session.end();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_session_follows_tasks_across_threads() {
    let (_telemetry, sink, session, id) = client_in_session("async-root");
    record_in_session_tasks(&session, 8, 10).await;
    // Plain tasks on the same workers see no leftover scope.
    let plain: Vec<_> = (0..8)
        .map(|_| tokio::spawn(async { current().is_none() }))
        .collect();
    for task in plain {
        assert!(task.await.unwrap(), "a worker kept a scope after a poll");
    }
    session.end();
    let records = wire(&sink);
    assert_totals(
        &records,
        &id,
        json!({
            "tool_calls": 80, "input_tokens": 80, "output_tokens": 160, "total_tokens": 240,
            "cost": 40.0, "error_count": 0, "is_success": true, "error": [],
        }),
    );
    let in_session = records
        .iter()
        .filter(|r| r["event"] == "token" && r["properties"]["session_id"] == id.as_str())
        .count();
    assert_eq!(in_session, 80);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_telemetry_follows_tasks_across_threads() {
    let (telemetry, sink) = client();
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let work = async move {
                for _ in 0..5 {
                    tokio::task::yield_now().await;
                    telemetry_core::track_command(format!("task-{n}"), Vec::<String>::new());
                }
            };
            tokio::spawn(work.with_telemetry(telemetry.clone()))
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert!(tokio::spawn(async { current().is_none() }).await.unwrap());
    assert_eq!(sink.records().len(), 40);

    // A task without the adapter has no client: nothing reaches this one.
    tokio::spawn(async { telemetry_core::track_command("lost", Vec::<String>::new()) })
        .await
        .unwrap();
    assert_eq!(sink.records().len(), 40);
}

#[tokio::test(flavor = "current_thread")]
async fn nested_sessions_in_async_code_stay_separate() {
    let (_telemetry, sink, parent, parent_id) = client_in_session("parent");
    let child_id = async {
        telemetry_core::record_token_usage("m", 1, 0, 0.0);
        let child = telemetry_core::start_session("child");
        let child_id = child.id().to_owned();
        async {
            tokio::task::yield_now().await;
            telemetry_core::record_token_usage("m", 10, 0, 0.0);
        }
        .with_session(&child)
        .await;
        tokio::task::yield_now().await;
        telemetry_core::record_token_usage("m", 1, 0, 0.0);
        child.end();
        child_id
    }
    .with_session(&parent)
    .await;
    parent.end();
    let records = wire(&sink);
    assert_eq!(end_of(&records, &parent_id)["input_tokens"], 2);
    assert_eq!(end_of(&records, &child_id)["input_tokens"], 10);
}
