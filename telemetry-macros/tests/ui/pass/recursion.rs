// Recursion, sync and async (boxed, as async recursion requires).
#![deny(warnings)]

use std::future::Future;
use std::pin::Pin;
use telemetry_core::{tracked_tool, MemorySink, Telemetry};

#[tracked_tool]
fn fib(n: u64) -> u64 {
    if n < 2 {
        n
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

#[tracked_tool]
async fn depth(n: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    let inner: Pin<Box<dyn Future<Output = u32>>> = Box::pin(depth(n - 1));
    inner.await + 1
}

fn main() {
    let sink = MemorySink::new();
    let telemetry = Telemetry::builder("app", "1.0")
        .sink(sink.clone())
        .notice(false)
        .env(|_| None)
        .build();
    telemetry.scope(|| assert_eq!(fib(5), 5));
    assert_eq!(sink.take().len(), 15);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let depth = runtime.block_on(async { telemetry.scope(|| depth(3)).await });
    assert_eq!(depth, 3);
}
