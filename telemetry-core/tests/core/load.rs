//! Load: nothing lost, nothing duplicated, order kept, sessions attributed,
//! against a healthy loopback collector over real HTTP: once through the
//! recorder API (where each event names its own sequence number), and once
//! through `#[tracked_tool]` functions, as an instrumented program records.
//!
//! The counts are enough for every thread and task to interleave with the
//! others many times over; throughput is measured by `cargo bench -p
//! telemetry-core --bench inline_http`, not here.

use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::{Duration, Instant};
use telemetry_core::{tracked_tool, Outcome, Session, Telemetry, WithTelemetry};
use telemetry_test_support::collector::Collector;
use telemetry_test_support::isolated;

fn client(collector: &Collector) -> Telemetry {
    // The per-process time budget charges each wait past 100 ms; on a
    // loaded machine thousands of requests can spend the default one,
    // which would stop delivery. This test is about exactly once and in
    // order, not the budget (`delivery_faults` pins that). The cap is
    // lifted too, so that no count here depends on it.
    let telemetry = isolated("load-test", "1.0.0")
        .endpoint(collector.url())
        .time_budget(Duration::from_secs(3_600))
        .max_records(u64::MAX)
        .build();
    assert!(telemetry.is_enabled());
    telemetry
}

fn props(record: &Value) -> &serde_json::Map<String, Value> {
    record["properties"].as_object().expect("properties")
}

fn text<'a>(record: &'a Value, key: &str) -> &'a str {
    record["properties"][key].as_str().unwrap_or_default()
}

/// All `event_id`s are present and distinct.
fn assert_ids_distinct(records: &[Value]) {
    let ids: HashSet<&str> = records.iter().map(|r| text(r, "event_id")).collect();
    assert!(!ids.contains(""), "a record has no event_id");
    assert_eq!(ids.len(), records.len(), "an event_id repeats");
}

/// The session end of session `id`.
fn end_of<'a>(records: &'a [Value], id: &str) -> &'a serde_json::Map<String, Value> {
    records
        .iter()
        .find(|r| {
            r["event"] == "session"
                && r["properties"]["action"] == "end"
                && text(r, "session_id") == id
        })
        .map(props)
        .expect("a session end")
}

const THREADS: usize = 8;
const CALLS_PER_THREAD: usize = 400;

/// Runs `calls` on each of [`THREADS`] threads, each inside its own session
/// (agent `agent-<thread>`), and returns the records once checked that
/// every tool call and both session events of each thread arrived in a
/// request of its own, with distinct event ids (inline delivery: all there
/// once the calls returned), over one keep-alive connection per thread
/// (nothing was resent); with the session ids in thread order.
fn run_on_threads_in_sessions(what: &str, calls: fn(&Session)) -> (Vec<Value>, Vec<String>) {
    let collector = Collector::start().unwrap();
    let telemetry = client(&collector);
    let started = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|thread| {
            let telemetry = telemetry.clone();
            std::thread::spawn(move || {
                let session = telemetry.start_session(format!("agent-{thread}"));
                calls(&session);
                let id = session.id().to_owned();
                session.end();
                id
            })
        })
        .collect();
    let sessions: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let elapsed = started.elapsed();

    let records = collector.records();
    let expected = THREADS * CALLS_PER_THREAD + 2 * THREADS;
    assert_eq!(collector.requests().len(), expected);
    assert_eq!(records.len(), expected);
    assert_ids_distinct(&records);
    assert_eq!(collector.connections(), THREADS);
    eprintln!(
        "{} {what} from {THREADS} threads delivered in {elapsed:?} ({:.0} events/s)",
        THREADS * CALLS_PER_THREAD,
        records.len() as f64 / elapsed.as_secs_f64()
    );
    (records, sessions)
}

/// The values of `key` in the tool records, per session id, in the order
/// they arrived.
fn tool_values_per_session<'a>(records: &'a [Value], key: &str) -> HashMap<&'a str, Vec<&'a str>> {
    let mut per_session: HashMap<&str, Vec<&str>> = HashMap::new();
    for record in records.iter().filter(|r| r["event"] == "tool") {
        per_session
            .entry(text(record, "session_id"))
            .or_default()
            .push(text(record, key));
    }
    assert_eq!(per_session.len(), THREADS);
    assert_eq!(
        per_session.values().map(Vec::len).sum::<usize>(),
        THREADS * CALLS_PER_THREAD
    );
    per_session
}

#[test]
fn eight_threads_of_tool_calls_arrive_exactly_once_and_in_order() {
    let (records, sessions) = run_on_threads_in_sessions("tool calls", |session| {
        for call in 0..CALLS_PER_THREAD {
            let outcome = if call % 100 == 99 {
                Outcome::failure("LoadError")
            } else {
                Outcome::Success
            };
            session.record_tool_call(format!("call-{call:05}"), Duration::ZERO, outcome);
        }
    });

    // Per thread (= per session): every call once, in the order made.
    let per_session = tool_values_per_session(&records, "tool_name");
    let expected: Vec<String> = (0..CALLS_PER_THREAD)
        .map(|c| format!("call-{c:05}"))
        .collect();
    for (thread, id) in sessions.iter().enumerate() {
        assert!(
            per_session[id.as_str()].iter().eq(expected.iter()),
            "thread {thread}: calls missing or out of order"
        );
        let end = end_of(&records, id);
        assert_eq!(end["tool_calls"], CALLS_PER_THREAD);
        assert_eq!(end["error_count"], CALLS_PER_THREAD / 100);
        assert_eq!(end["agent_name"], format!("agent-{thread}"));
    }
}

const TASKS: usize = 400;
const SESSIONS: usize = 20;

/// Runs [`TASKS`] tasks on `runtime`, spread over [`SESSIONS`] sessions
/// (agent `agent-<s>`): task `t` is `task(s, t)` with `s = t % SESSIONS`,
/// its session carried into it with `with_session`. Returns the records
/// the collector received, once checked that each task's `per_task`
/// records and both events of each session arrived, with distinct event
/// ids, and each session's number by its id.
fn run_tasks_in_sessions<F>(
    runtime: &tokio::runtime::Runtime,
    per_task: usize,
    task: impl Fn(usize, usize, &Session) -> F,
) -> (Vec<Value>, HashMap<String, usize>)
where
    F: Future<Output = ()> + Send + 'static,
{
    let collector = Collector::start().unwrap();
    let telemetry = client(&collector);
    let started = Instant::now();
    runtime.block_on(async {
        let sessions: Vec<_> = (0..SESSIONS)
            .map(|s| telemetry.start_session(format!("agent-{s}")))
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        for t in 0..TASKS {
            let s = t % SESSIONS;
            tasks.spawn(task(s, t, &sessions[s]).with_session(&sessions[s]));
        }
        let mut returned = 0;
        while let Some(done) = tasks.join_next().await {
            done.expect("no task panicked");
            returned += 1;
        }
        assert_eq!(returned, TASKS);
        drop(sessions);
    });
    let elapsed = started.elapsed();

    let records = collector.records();
    assert_eq!(records.len(), 2 * SESSIONS + per_task * TASKS);
    assert_ids_distinct(&records);
    let session_of: HashMap<String, usize> = records
        .iter()
        .filter(|r| r["event"] == "session" && r["properties"]["action"] == "start")
        .map(|r| {
            let agent = text(r, "agent_name");
            let s = agent.trim_start_matches("agent-").parse().unwrap();
            (text(r, "session_id").to_owned(), s)
        })
        .collect();
    assert_eq!(session_of.len(), SESSIONS);
    for record in &records {
        let s = session_of[text(record, "session_id")];
        assert_eq!(text(record, "agent_name"), format!("agent-{s}"), "{record}");
    }
    eprintln!(
        "{TASKS} async tasks: {} records delivered in {elapsed:?}",
        records.len()
    );
    (records, session_of)
}

/// Each session's end counts exactly its own tasks: one tool call and one
/// token usage (1 in, 2 out, cost 0.25) each, failed for `failed(s)`.
fn assert_session_totals(
    records: &[Value],
    session_of: &HashMap<String, usize>,
    failed: fn(usize) -> bool,
) {
    let per_session = TASKS / SESSIONS;
    let ends: Vec<&Value> = records
        .iter()
        .filter(|r| r["event"] == "session" && r["properties"]["action"] == "end")
        .collect();
    assert_eq!(ends.len(), SESSIONS);
    for end in ends {
        let s = session_of[text(end, "session_id")];
        let p = props(end);
        assert_eq!(p["tool_calls"], per_session, "{end}");
        assert_eq!(p["input_tokens"], per_session, "{end}");
        assert_eq!(p["output_tokens"], 2 * per_session, "{end}");
        assert_eq!(p["cost"], 0.25 * per_session as f64, "{end}");
        let errors = if failed(s) { per_session } else { 0 };
        assert_eq!(p["error_count"], errors, "{end}");
    }
}

/// Every task records a token usage (attributed through the current
/// session only) and a tool call, with yields (and, on a multi-thread
/// runtime, thread hops) between.
fn async_recordings(runtime: &tokio::runtime::Runtime) {
    let (records, session_of) = run_tasks_in_sessions(runtime, 2, |s, task, session| {
        let session_id = session.id().to_owned();
        let agent = session.agent().to_owned();
        async move {
            tokio::task::yield_now().await;
            // The client and the session come from the context.
            let current = telemetry_core::current().expect("a current client");
            telemetry_core::record_token_usage(format!("model-{s}-{task}"), 1, 2, 0.25);
            tokio::time::sleep(Duration::from_millis(1)).await;
            current.record_tool_call(
                format!("tool-{s}-{task}"),
                &session_id,
                &agent,
                Duration::ZERO,
                Outcome::Success,
            );
        }
    });

    // Each token and tool record names the session its task was given.
    let mut seen = HashSet::new();
    for record in records.iter().filter(|r| r["event"] != "session") {
        let name = match record["event"].as_str() {
            Some("token") => text(record, "model_name"),
            _ => text(record, "tool_name"),
        };
        let mut parts = name.split('-').skip(1);
        let s: usize = parts.next().unwrap().parse().unwrap();
        let task: usize = parts.next().unwrap().parse().unwrap();
        assert_eq!(
            session_of.get(text(record, "session_id")),
            Some(&s),
            "{record}"
        );
        assert!(seen.insert(name.to_owned()), "{name} twice");
        assert_eq!(task % SESSIONS, s);
    }
    assert_eq!(seen.len(), 2 * TASKS);
    assert_session_totals(&records, &session_of, |_| false);
}

fn runtime(multi_thread: bool) -> tokio::runtime::Runtime {
    let mut builder = if multi_thread {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(4);
        builder
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build().unwrap()
}

#[test]
fn hundreds_of_async_recordings_on_multi_and_current_thread_runtimes() {
    for multi_thread in [true, false] {
        async_recordings(&runtime(multi_thread));
    }
}

// ---------------------------------------------------------------------------
// The same through `#[tracked_tool]`

/// A tool's name is fixed, so a tracked call is tagged by its error type:
/// `Digit<N>` for call number `i` with `i % 10 == N`. The kinds a thread's
/// session receives must then cycle 0, 1, ..., 9, 0, ... in order.
macro_rules! digits {
    ($($digit:ident),*) => {
        $(#[derive(Debug, Default)] struct $digit;)*
        /// Makes call number `call` of a thread, through the tracked tool.
        fn tagged_call(call: usize) {
            let digits: &[fn()] = &[$(|| { let _ = tagged_step::<$digit>(); }),*];
            digits[call % digits.len()]();
        }
    };
}
digits!(Digit0, Digit1, Digit2, Digit3, Digit4, Digit5, Digit6, Digit7, Digit8, Digit9);

#[tracked_tool]
fn tagged_step<E: Default>() -> Result<(), E> {
    Err(E::default())
}

#[test]
fn eight_threads_of_tracked_tool_calls_arrive_exactly_once_and_in_order() {
    let (records, sessions) = run_on_threads_in_sessions("#[tracked_tool] calls", |session| {
        session.scope(|| (0..CALLS_PER_THREAD).for_each(tagged_call));
    });
    assert!(records
        .iter()
        .filter(|r| r["event"] == "tool")
        .all(|r| text(r, "tool_name") == "tagged_step"));
    let per_session = tool_values_per_session(&records, "error");
    for (thread, id) in sessions.iter().enumerate() {
        let kinds = &per_session[id.as_str()];
        assert_eq!(kinds.len(), CALLS_PER_THREAD, "thread {thread}");
        for (call, kind) in kinds.iter().enumerate() {
            assert!(
                kind.ends_with(&format!("::Digit{}", call % 10)),
                "thread {thread}, call {call}: {kind} (out of order)"
            );
        }
        let end = end_of(&records, id);
        assert_eq!(end["tool_calls"], CALLS_PER_THREAD);
        assert_eq!(end["error_count"], CALLS_PER_THREAD);
        assert_eq!(end["error"].as_array().unwrap().len(), 10);
    }
}

/// Fails for the tasks of odd sessions, so that each tool record shows
/// which session's task made it; records a token usage named after the
/// task on the way.
#[tracked_tool]
async fn async_tool(session: usize, task: usize) -> Result<usize, std::fmt::Error> {
    tokio::task::yield_now().await;
    telemetry_core::record_token_usage(format!("model-{session}-{task}"), 1, 2, 0.25);
    tokio::time::sleep(Duration::from_millis(1)).await;
    if session % 2 == 1 {
        return Err(std::fmt::Error);
    }
    Ok(task)
}

fn async_tracked_tools(runtime: &tokio::runtime::Runtime) {
    let (records, session_of) = run_tasks_in_sessions(runtime, 2, |s, task, _| async move {
        // The tracked function's result is unchanged.
        match async_tool(s, task).await {
            Ok(returned) => assert_eq!((returned, s % 2), (task, 0)),
            Err(std::fmt::Error) => assert_eq!(s % 2, 1),
        }
    });
    let mut tools = vec![0; SESSIONS];
    for record in &records {
        let s = session_of[text(record, "session_id")];
        match record["event"].as_str() {
            Some("token") => {
                let model = text(record, "model_name");
                assert!(model.starts_with(&format!("model-{s}-")), "{record}");
            }
            Some("tool") => {
                assert_eq!(text(record, "tool_name"), "async_tool");
                assert_eq!(record["properties"]["is_success"], s % 2 == 0, "{record}");
                tools[s] += 1;
            }
            _ => {}
        }
    }
    assert_eq!(tools, vec![TASKS / SESSIONS; SESSIONS]);
    assert_session_totals(&records, &session_of, |s| s % 2 == 1);
}

#[test]
fn hundreds_of_async_tracked_tools_on_multi_and_current_thread_runtimes() {
    for multi_thread in [true, false] {
        async_tracked_tools(&runtime(multi_thread));
    }
}
