//! `async fn` shapes: the same events as sync ones; a future dropped before
//! it completes is recorded as cancelled; and async tools keep their
//! session across `.await` points and threads.

use crate::common::{assert_failure, assert_success, calls, client, noop_waker, session_ends};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use telemetry_core::{tracked_command, tracked_tool, WithTelemetry};
use tokio::task::yield_now;

#[derive(Debug, PartialEq)]
struct Timeout;

#[tracked_tool]
async fn fetch(url: &str) -> Result<usize, Timeout> {
    yield_now().await;
    if url.is_empty() {
        return Err(Timeout);
    }
    Ok(url.len())
}

#[tracked_command(name = "async-run")]
async fn run(steps: u32) -> u32 {
    let mut done = 0;
    for _ in 0..steps {
        yield_now().await;
        done += 1;
    }
    done
}

#[tracked_tool]
async fn parse(text: &str) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
    yield_now().await;
    if text.is_empty() {
        return Err("empty".into());
    }
    Ok(text.parse()?)
}

#[tracked_tool]
async fn nap() -> u8 {
    tokio::time::sleep(Duration::from_millis(20)).await;
    1
}

#[tokio::test]
async fn async_fns_record_name_kind_outcome_and_duration() {
    let (telemetry, sink) = client();
    let work = async {
        assert_eq!(fetch("abc").await, Ok(3));
        assert_eq!(fetch("").await, Err(Timeout));
        assert_eq!(run(3).await, 3);
        assert_eq!(parse("12").await.unwrap(), 12);
        assert!(parse("x").await.is_err());
        assert_eq!(nap().await, 1);
    };
    work.with_telemetry(telemetry).await;
    let calls = calls(&sink);
    assert_eq!(calls.len(), 6);
    assert_success(&calls[0], "tool", "fetch");
    assert_failure(&calls[1], "tool", "fetch", std::any::type_name::<Timeout>());
    assert_success(&calls[2], "command", "async-run");
    assert_success(&calls[3], "tool", "parse");
    let kind = "InvalidDigit"; // the kind of the ParseIntError in the box
    assert_failure(&calls[4], "tool", "parse", kind);
    assert!(
        (20..10_000).contains(&calls[5].duration_ms),
        "{:#?}",
        calls[5]
    );
}

#[derive(Default)]
struct Agent {
    memory: Vec<String>,
}

impl Agent {
    #[tracked_tool]
    async fn recall(&self) -> Option<&String> {
        yield_now().await;
        self.memory.last()
    }

    #[tracked_tool]
    async fn memory_mut(&mut self) -> &mut Vec<String> {
        yield_now().await;
        &mut self.memory
    }

    #[tracked_tool]
    async fn into_memory(self) -> Vec<String> {
        self.memory
    }
}

trait Tool {
    async fn call(&self, input: &str) -> Result<usize, Timeout>;

    fn call_send(&self, input: &str) -> impl Future<Output = usize> + Send;
}

impl Tool for Agent {
    #[tracked_tool(name = "agent.call")]
    async fn call(&self, input: &str) -> Result<usize, Timeout> {
        yield_now().await;
        Ok(input.len() + self.memory.len())
    }

    #[tracked_tool(name = "agent.call_send")]
    async fn call_send(&self, input: &str) -> usize {
        yield_now().await;
        input.len()
    }
}

#[tokio::test]
async fn async_methods_and_native_async_trait_methods() {
    let (telemetry, sink) = client();
    let work = async {
        let mut agent = Agent::default();
        agent.memory_mut().await.push("fact".to_owned());
        assert_eq!(agent.recall().await.map(String::as_str), Some("fact"));
        assert_eq!(agent.call("ab").await, Ok(3));
        assert_eq!(
            tokio::spawn(async { Agent::default().call_send("abc").await })
                .await
                .unwrap(),
            3
        );
        assert_eq!(agent.into_memory().await, ["fact"]);
    };
    work.with_telemetry(telemetry).await;
    let names: Vec<_> = calls(&sink).into_iter().map(|call| call.name).collect();
    // The spawned task has no client (it was not given one): not recorded.
    assert_eq!(names, ["memory_mut", "recall", "agent.call", "into_memory"]);
}

#[tracked_tool]
async fn wait_forever() -> u8 {
    std::future::pending::<()>().await;
    1
}

#[tokio::test]
async fn a_future_dropped_before_completion_is_recorded_as_cancelled() {
    let (telemetry, sink) = client();
    let session = telemetry.start_session("root");
    let timed_out = tokio::time::timeout(Duration::from_millis(10), wait_forever())
        .with_session(&session)
        .await;
    assert!(timed_out.is_err());
    session.end();
    assert_failure(&calls(&sink)[0], "tool", "wait_forever", "cancelled");
    assert_eq!(session_ends(&sink)[0].error_count, 1);
}

#[test]
fn a_future_dropped_before_its_first_poll_records_nothing() {
    let (telemetry, sink) = client();
    telemetry.scope(|| drop(wait_forever()));
    assert!(calls(&sink).is_empty());
}

/// A future that is pending until `open` is set.
struct Gate(Arc<AtomicBool>);

impl Future for Gate {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0.load(Ordering::SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[tracked_tool]
async fn gated(gate: Gate) -> Result<(), Timeout> {
    gate.await;
    fetch("after the hop").await.map(drop)
}

#[test]
fn an_async_tool_keeps_its_session_when_polled_on_another_thread() {
    let (telemetry, sink) = client();
    let session = telemetry.start_session("hopper");
    let id = session.id().to_owned();
    let open = Arc::new(AtomicBool::new(false));
    let mut future = Box::pin(gated(Gate(Arc::clone(&open))).with_session(&session));
    let waker = noop_waker();

    // The first poll, on one thread, starts the call and stops at the gate.
    let first = std::thread::scope(|s| {
        s.spawn(|| future.as_mut().poll(&mut Context::from_waker(&waker)))
            .join()
            .unwrap()
    });
    assert!(first.is_pending());
    // The rest runs on another thread (a few polls: `yield_now` yields once).
    open.store(true, Ordering::SeqCst);
    let rest = std::thread::scope(|s| {
        s.spawn(|| {
            (0..10)
                .map(|_| future.as_mut().poll(&mut Context::from_waker(&waker)))
                .find(Poll::is_ready)
        })
        .join()
        .unwrap()
    });
    assert_eq!(rest, Some(Poll::Ready(Ok(()))));
    drop(future);
    session.end();

    // `gated` started on the first thread and finished on the second,
    // `fetch` ran on the second: both in the session.
    let calls = calls(&sink);
    let names: Vec<_> = calls.iter().map(|call| call.name.as_str()).collect();
    assert_eq!(names, ["fetch", "gated"]);
    for call in &calls {
        assert_eq!(
            (call.session_id.as_str(), call.agent.as_str()),
            (id.as_str(), "hopper")
        );
    }
    assert_eq!(session_ends(&sink)[0].tool_calls, 2);
}

#[tracked_tool]
async fn hop(step: u32) -> Result<u32, Timeout> {
    for _ in 0..3 {
        yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    if step % 4 == 0 {
        Err(Timeout)
    } else {
        Ok(step)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_tools_on_a_multi_thread_runtime_keep_their_session() {
    let (telemetry, sink) = client();
    let session = telemetry.start_session("swarm");
    let tasks: Vec<_> = (0..8)
        .map(|step| tokio::spawn(hop(step).with_session(&session)))
        .collect();
    for task in tasks {
        let _ = task.await.unwrap();
    }
    let id = session.id().to_owned();
    session.end();

    let calls = calls(&sink);
    assert_eq!(calls.len(), 8);
    for call in &calls {
        assert_eq!(
            (call.session_id.as_str(), call.agent.as_str()),
            (id.as_str(), "swarm")
        );
    }
    let end = &session_ends(&sink)[0];
    assert_eq!((end.tool_calls, end.error_count), (8, 2));
}

#[test]
fn a_tracked_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&hop(1));
    let agent = Agent::default();
    assert_send(&agent.recall());
}

/// The shape rmcp's `#[tool]` (and `async-trait`) leave when they run
/// before `#[tracked_tool]`: an `async fn` turned into a fn that returns a
/// boxed `async move` block.
#[tracked_tool(name = "boxed")]
#[allow(clippy::type_complexity)]
fn boxed(key: &str) -> std::pin::Pin<Box<dyn Future<Output = Result<usize, Timeout>> + Send + '_>> {
    Box::pin(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if key.is_empty() {
            return Err(Timeout);
        }
        Ok(key.len())
    })
}

#[tokio::test]
async fn a_boxed_async_block_is_tracked_like_the_async_fn_it_was() {
    let (telemetry, sink) = client();
    let work = async {
        drop(boxed("never polled"));
        assert_eq!(boxed("abc").await, Ok(3));
        assert_eq!(boxed("").await, Err(Timeout));
    };
    work.with_telemetry(telemetry).await;
    let calls = calls(&sink);
    assert_eq!(
        calls.len(),
        2,
        "a future dropped unpolled never ran: {calls:#?}"
    );
    assert_success(&calls[0], "tool", "boxed");
    assert_failure(&calls[1], "tool", "boxed", std::any::type_name::<Timeout>());
    assert!(
        (20..10_000).contains(&calls[0].duration_ms),
        "{:#?}",
        calls[0]
    );
}
