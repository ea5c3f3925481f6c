//! Target 2: with telemetry on and a sink that discards, a tracked call
//! costs at most 250 ns, clock reads and building the event included.
//!
//! Beside it, for scale: the same call inside a session (its totals are
//! counted too), the explicit `record_tool_call`, and a sink that also
//! serialises each record to its wire JSON (the part of the HTTP path that
//! is not network).
//!
//! `cargo bench -p telemetry-core --bench recorder`

mod support;

use divan::black_box;
use std::cell::RefCell;
use std::time::Duration;
use support::{client_with_sink, plain, tracked, Discard};
use telemetry_core::{Outcome, Record, SendError, Sink, Telemetry};

fn main() {
    telemetry_core::set_global(client_with_sink(Discard));
    divan::main();
}

/// The same function without telemetry: the floor.
#[divan::bench]
fn plain_fn() -> u64 {
    plain(black_box(7))
}

/// Target 2: a tracked call recorded with the global client.
#[divan::bench]
fn tracked_fn() -> u64 {
    tracked(black_box(7))
}

/// A tracked call inside a session: also counts toward its totals.
#[divan::bench]
fn tracked_fn_in_session(bencher: divan::Bencher) {
    let session = telemetry_core::start_session("bench-agent");
    session.scope(|| bencher.bench_local(|| tracked(black_box(7))));
}

/// The explicit API, with a duration and outcome already known.
#[divan::bench]
fn record_tool_call(bencher: divan::Bencher) {
    let telemetry = telemetry_core::current().unwrap_or_default();
    bencher.bench_local(|| {
        telemetry.record_tool_call(
            black_box("read_file"),
            "",
            "",
            Duration::from_micros(5),
            Outcome::Success,
        );
    });
}

/// A sink that serialises each record to its wire JSON, then discards it.
struct Serialise;

impl Sink for Serialise {
    fn send(&self, records: &[Record]) -> Result<(), SendError> {
        thread_local! {
            static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        BUFFER.with(|buffer| {
            let mut buffer = buffer.borrow_mut();
            buffer.clear();
            let _ = serde_json::to_writer(&mut *buffer, records);
            black_box(buffer.len());
        });
        Ok(())
    }
}

/// A tracked call whose record is also serialised to JSON.
#[divan::bench]
fn tracked_fn_serialised(bencher: divan::Bencher) {
    let telemetry: Telemetry = client_with_sink(Serialise);
    telemetry.scope(|| bencher.bench_local(|| tracked(black_box(7))));
}
