//! Target 3: a tracked call sent inline over HTTP to a loopback collector,
//! on a warm keep-alive connection, costs at most 1.25x a raw
//! `std::net::TcpStream` keep-alive HTTP/1.1 request and response to the
//! same collector, measured in the same run (compare the medians).
//!
//! The raw client sends the same body and headers and reads the whole
//! answer; it does not build or serialise the record, so the comparison
//! charges the telemetry side for that too.
//!
//! Beside them, what reqwest itself costs for the same request: its async
//! client driven with `block_on` on a current-thread runtime, as the sink
//! drives it (`reqwest_async_block_on`, the floor for any sender built on
//! reqwest), and `reqwest::blocking`, which hands each request to a runtime
//! thread of its own. And for scale, the same tracked call made inside a
//! tokio runtime (current-thread and multi-thread), where the send runs on
//! the sink's background thread.
//!
//! `cargo bench -p telemetry-core --bench inline_http`

mod support;

use divan::black_box;
use std::sync::OnceLock;
use support::{http_client, tool_event_body, tracked, RawHttp, ReqwestAsync, ReqwestBlocking};
use telemetry_test_support::collector::Collector;

/// Enough samples for a steady median; each one is a single request.
const SAMPLES: u32 = 2_000;

fn collector() -> &'static Collector {
    static COLLECTOR: OnceLock<Collector> = OnceLock::new();
    COLLECTOR.get_or_init(support::counting_collector)
}

fn main() {
    let telemetry = http_client(&collector().url(), None);
    telemetry_core::set_global(telemetry);
    divan::main();
}

/// 100 warm-up requests, each answered 200, then the timed ones.
fn warmed_posts(bencher: divan::Bencher, mut post: impl FnMut() -> u16) {
    for _ in 0..100 {
        assert_eq!(post(), 200);
    }
    bencher.bench_local(post);
}

/// Tracked calls inside a runtime built by `runtime`, after 100 warm-up
/// calls (the client sends from its background thread there).
fn tracked_in_runtime(bencher: divan::Bencher, runtime: &mut tokio::runtime::Builder) {
    let runtime = runtime.enable_all().build().expect("a runtime");
    let _entered = runtime.enter();
    for _ in 0..100 {
        tracked(black_box(7));
    }
    bencher.bench_local(|| tracked(black_box(7)));
}

/// The floor: one keep-alive request and answer on a raw `TcpStream`.
#[divan::bench(sample_count = SAMPLES, sample_size = 1)]
fn raw_tcp_keep_alive(bencher: divan::Bencher) {
    let mut raw = RawHttp::connect(collector().addr(), &tool_event_body());
    warmed_posts(bencher, || raw.post());
}

/// reqwest's async client, driven on this thread, the same request (no
/// record to build or serialise): what the sink cannot go below.
#[divan::bench(sample_count = SAMPLES, sample_size = 1)]
fn reqwest_async_block_on(bencher: divan::Bencher) {
    let reqwest = ReqwestAsync::new(&collector().url(), tool_event_body());
    warmed_posts(bencher, || reqwest.post());
}

/// `reqwest::blocking`, the same request: each send hops to reqwest's own
/// runtime thread and back.
#[divan::bench(sample_count = SAMPLES, sample_size = 1)]
fn reqwest_blocking(bencher: divan::Bencher) {
    let reqwest = ReqwestBlocking::new(&collector().url(), tool_event_body());
    warmed_posts(bencher, || reqwest.post());
}

/// Target 3: a tracked call, recorded and sent inline on this thread.
#[divan::bench(sample_count = SAMPLES, sample_size = 1)]
fn tracked_fn_inline(bencher: divan::Bencher) {
    let before = collector().records_received();
    for _ in 0..100 {
        tracked(black_box(7));
    }
    assert_eq!(
        collector().records_received() - before,
        100,
        "the warm-up calls did not all arrive"
    );
    bencher.bench_local(|| tracked(black_box(7)));
}

/// Inside a current-thread tokio runtime (sent by the background thread).
#[divan::bench(sample_count = SAMPLES / 4, sample_size = 1)]
fn tracked_fn_in_tokio_current_thread(bencher: divan::Bencher) {
    let mut runtime = tokio::runtime::Builder::new_current_thread();
    tracked_in_runtime(bencher, &mut runtime);
}

/// Inside a multi-thread tokio runtime (sent by the background thread).
#[divan::bench(sample_count = SAMPLES / 4, sample_size = 1)]
fn tracked_fn_in_tokio_multi_thread(bencher: divan::Bencher) {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    tracked_in_runtime(bencher, runtime.worker_threads(2));
}
