//! Background delivery's cost on the recording thread, through a client
//! built as an app builds it: one `record_tool_call` on a client with
//! `Delivery::Background` (the record built and serialised, queued, and
//! appended to the spool file). Target: at most 5 µs per call for the
//! queue and the spool append; the `recorder` bench measures building and
//! serialising a record alone (subtract it for that part).
//!
//! The sender thread runs as in a program: it takes batches off the queue,
//! hands them to the client's sink, here one that accepts at once
//! (`send_serialised`), and acknowledges them in the spool, so that the
//! numbers include the contention with it. The local history is off: it
//! is written by the sender, not by the recording thread.
//!
//! `cargo bench -p telemetry-core --bench background`

use divan::black_box;
use std::time::Duration;
use telemetry_core::{Delivery, Outcome, Record, SendError, Sink, Telemetry};
use telemetry_test_support::TempDir;

fn main() {
    divan::main();
}

/// A sink that background delivery can use, answering every batch with
/// `answer`.
struct Answering(fn() -> Result<(), SendError>);

impl Sink for Answering {
    fn send(&self, records: &[Record]) -> Result<(), SendError> {
        black_box(records);
        (self.0)()
    }

    fn send_serialised(&self, records: &[String]) -> Result<(), SendError> {
        black_box(records);
        (self.0)()
    }

    fn sends_serialised(&self) -> bool {
        true
    }
}

fn accept() -> Result<(), SendError> {
    Ok(())
}

/// The collector is down: every batch is refused.
fn refuse() -> Result<(), SendError> {
    Err(SendError::Rejected(503))
}

/// A background client with this sink, its spool in `config_dir` (none:
/// records are kept in memory only), with no cap on records (a benchmark
/// makes millions) and no environment; started by one record flushed, so
/// that starting the sender and creating the spool file (once per
/// process) are not timed.
fn background_client(
    answer: fn() -> Result<(), SendError>,
    config_dir: Option<&TempDir>,
) -> Telemetry {
    let mut builder = Telemetry::builder("bench", "1.0.0")
        .sink(Answering(answer))
        .delivery(Delivery::Background)
        .notice(false)
        .history(false)
        .env(|_| None)
        .max_records(u64::MAX);
    if let Some(dir) = config_dir {
        builder = builder.config_dir(dir.path());
    }
    let telemetry = builder.build();
    assert!(telemetry.is_enabled(), "the benchmark client is off");
    record(&telemetry);
    let _ = telemetry.flush(Duration::from_secs(5));
    telemetry
}

/// One typical tool call (a ~500-byte wire record).
fn record(telemetry: &Telemetry) {
    telemetry.record_tool_call(
        black_box("read_file"),
        black_box("6f1d2c3a-8b4e-4f7a-9c2d-1e5f6a7b8c9d"),
        black_box("root"),
        Duration::from_millis(12),
        Outcome::Success,
    );
}

/// Target: record + queue + spool append, per call.
#[divan::bench(sample_count = 1000, sample_size = 10)]
fn record_spooled(bencher: divan::Bencher) {
    let dir = TempDir::new("bench-background");
    let telemetry = background_client(accept, Some(&dir));
    bencher.bench_local(|| record(&telemetry));
    let _ = telemetry.flush(Duration::from_secs(5));
}

/// For scale: the queue alone, with no config dir (no spool).
#[divan::bench(sample_count = 1000, sample_size = 10)]
fn record_memory_only(bencher: divan::Bencher) {
    let telemetry = background_client(accept, None);
    bencher.bench_local(|| record(&telemetry));
    let _ = telemetry.flush(Duration::from_secs(5));
}

/// The collector is down: every record only goes to the spool, which
/// stays within its bound by compaction (once per quarter of the bound,
/// about 2,500 records here); the compactions' cost is amortised over the
/// calls.
#[divan::bench(sample_count = 1000, sample_size = 10)]
fn record_spooled_collector_down(bencher: divan::Bencher) {
    let dir = TempDir::new("bench-background-down");
    let telemetry = background_client(refuse, Some(&dir));
    bencher.bench_local(|| record(&telemetry));
    let _ = telemetry.flush(Duration::ZERO);
}
