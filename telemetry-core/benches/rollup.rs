//! Tool-call roll-ups: the per-call cost of a call folded into its tool's
//! summary (`tool_rollup`) against an ordinary record of the same call.
//! Goal: a folded call costs at most what an ordinary record costs.
//!
//! Both in a session, with a sink that discards (the cheapest ordinary
//! record there is), through the explicit API and through
//! `#[tracked_tool]`. The folded client has `tool_rollup(0)`: every call
//! folds.
//!
//! `cargo bench -p telemetry-core --bench rollup`

mod support;

use divan::black_box;
use std::time::Duration;
use support::{client_with_sink, tracked, Discard};
use telemetry_core::{Outcome, Telemetry};

fn main() {
    divan::main();
}

fn ordinary() -> Telemetry {
    client_with_sink(Discard)
}

fn folding() -> Telemetry {
    Telemetry::builder("bench", "1.0.0")
        .sink(Discard)
        .notice(false)
        .env(|_| None)
        .max_records(u64::MAX)
        .tool_rollup(0)
        .build()
}

/// Calls before the measured ones: the first call of a tool in a session
/// adds its entry to the session's map, and divan sizes its samples from
/// its first runs.
const WARM_UP: usize = 1_000;

fn explicit_call(bencher: divan::Bencher, telemetry: &Telemetry) {
    let session = telemetry.start_session("bench-agent");
    let call = || {
        session.record_tool_call(
            black_box("read_file"),
            Duration::from_micros(5),
            Outcome::Success,
        );
    };
    (0..WARM_UP).for_each(|_| call());
    bencher.bench_local(call);
}

fn tracked_call(bencher: divan::Bencher, telemetry: &Telemetry) {
    let session = telemetry.start_session("bench-agent");
    telemetry.scope(|| {
        session.scope(|| {
            (0..WARM_UP).for_each(|_| {
                tracked(black_box(7));
            });
            bencher.bench_local(|| tracked(black_box(7)));
        });
    });
}

/// Whether a call is sent as its own record or folded into its tool's
/// summary.
#[derive(Debug, Clone, Copy)]
enum Rollup {
    Ordinary,
    Folded,
}

impl Rollup {
    fn client(self) -> Telemetry {
        match self {
            Rollup::Ordinary => ordinary(),
            Rollup::Folded => folding(),
        }
    }
}

/// `Session::record_tool_call`, sent as its own record or folded.
#[divan::bench(sample_size = 1000, args = [Rollup::Ordinary, Rollup::Folded])]
fn record_tool_call(bencher: divan::Bencher, rollup: Rollup) {
    explicit_call(bencher, &rollup.client());
}

/// A `#[tracked_tool]` call, sent as its own record or folded.
#[divan::bench(sample_size = 1000, args = [Rollup::Ordinary, Rollup::Folded])]
fn tracked_fn(bencher: divan::Bencher, rollup: Rollup) {
    tracked_call(bencher, &rollup.client());
}

/// A failed call, folded: its error kind is counted too.
#[divan::bench(sample_size = 1000)]
fn record_tool_call_folded_failure(bencher: divan::Bencher) {
    let telemetry = folding();
    let session = telemetry.start_session("bench-agent");
    let call = || {
        session.record_tool_call(
            black_box("search_web"),
            Duration::from_micros(5),
            Outcome::failure("NotFound"),
        );
    };
    (0..WARM_UP).for_each(|_| call());
    bencher.bench_local(call);
}
