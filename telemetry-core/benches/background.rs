//! Background delivery's cost on the recording thread: queueing a record
//! and appending it to the spool file. Target: at most 5 µs per call.
//!
//! The record is a typical ~500-byte wire record, already serialised (the
//! `recorder` bench measures serialisation). The sender thread runs as in
//! a program: it takes batches off the queue and acknowledges them in the
//! spool, here with a send function that accepts at once, so that the
//! numbers include the contention with it.
//!
//! `cargo bench -p telemetry-core --bench background`

use divan::black_box;
use std::path::PathBuf;
use telemetry_core::background::{Background, Limits, SendFn};

fn main() {
    divan::main();
}

const RECORD: &str = r#"{"event":"tool","event_timestamp":1795620628495,"source":"bench","properties":{"action":"call","tool_name":"read_file","session_id":"6f1d2c3a-8b4e-4f7a-9c2d-1e5f6a7b8c9d","agent_name":"root","duration_ms":12,"is_success":true,"user_uuid":"0b7e3f52-4c1a-4d8e-9f6b-2a3c4d5e6f70","version":"1.0.0","os":"linux","os_language":"en-US","arch":"x86_64","ci":false,"event_id":"c2a1b3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"}}"#;

fn accept() -> SendFn {
    Box::new(|records: &[String]| {
        black_box(records);
        Ok(())
    })
}

fn warm_up(background: &Background) {
    background.record_line("warm-up".into(), RECORD.into());
    let _ = background.flush(std::time::Duration::from_secs(5));
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir() -> TempDir {
    let dir = std::env::temp_dir().join(format!(
        "telemetry-bench-background-{}-{:?}",
        std::process::id(),
        std::time::Instant::now()
    ));
    TempDir(dir)
}

/// Target: queue + spool append, per call.
#[divan::bench(sample_count = 1000, sample_size = 10)]
fn record_spooled(bencher: divan::Bencher) {
    let dir = temp_dir();
    let background = Background::new(Some(dir.0.clone()), accept(), Limits::default(), None);
    // The first record starts the sender and creates the spool file: once
    // per process, not per call.
    warm_up(&background);
    bencher.bench_local(|| {
        background.record_line(
            black_box("c2a1b3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d").to_owned(),
            black_box(RECORD).to_owned(),
        );
    });
    let _ = background.finish(std::time::Duration::from_secs(5));
}

/// For scale: the queue alone, with no spool dir.
#[divan::bench(sample_count = 1000, sample_size = 10)]
fn record_memory_only(bencher: divan::Bencher) {
    let background = Background::new(None, accept(), Limits::default(), None);
    warm_up(&background);
    bencher.bench_local(|| {
        background.record_line(
            black_box("c2a1b3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d").to_owned(),
            black_box(RECORD).to_owned(),
        );
    });
    let _ = background.flush(std::time::Duration::from_secs(5));
}

/// The collector is down (sending stopped): every record only goes to the
/// spool, which stays within its bound by compaction (once per quarter of
/// the bound, about 2,500 records here); the compactions' cost is
/// amortised over the calls.
#[divan::bench(sample_count = 1000, sample_size = 10)]
fn record_spooled_collector_down(bencher: divan::Bencher) {
    let dir = temp_dir();
    let refuse: SendFn = Box::new(|_: &[String]| Err(telemetry_core::SendError::Rejected(503)));
    let background = Background::new(Some(dir.0.clone()), refuse, Limits::default(), None);
    warm_up(&background);
    bencher.bench_local(|| {
        background.record_line(
            black_box("c2a1b3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d").to_owned(),
            black_box(RECORD).to_owned(),
        );
    });
    let _ = background.finish(std::time::Duration::ZERO);
}
