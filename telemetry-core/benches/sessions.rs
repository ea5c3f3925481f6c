//! Sessions at scale: the cost of starting and ending a session, and of a
//! tool call that names a session by id, with 1,000 and with 100,000 other
//! sessions live. The live sessions are found through a map by id, so the
//! cost per operation stays flat as their number grows (it grew linearly
//! before: 526 µs per start with 50,000 live).
//!
//! `cargo bench -p telemetry-core --bench sessions`

mod support;

use divan::black_box;
use std::time::Duration;
use support::{client_with_sink, Discard};
use telemetry_core::{Outcome, Session, Telemetry};

fn main() {
    divan::main();
}

/// A client and `live` sessions that stay open during the measurement.
fn with_live_sessions(live: usize) -> (Telemetry, Vec<Session>) {
    let telemetry = client_with_sink(Discard);
    let sessions = (0..live)
        .map(|_| telemetry.start_session("bench-agent"))
        .collect();
    (telemetry, sessions)
}

/// One session started and ended, beside this many live ones.
#[divan::bench(args = [1_000, 100_000])]
fn start_and_end(bencher: divan::Bencher, live: usize) {
    let (telemetry, _sessions) = with_live_sessions(live);
    bencher.bench_local(|| telemetry.start_session(black_box("bench-agent")).end());
}

/// A tool call that names a live session by id (found and counted),
/// beside this many live ones.
#[divan::bench(args = [1_000, 100_000])]
fn tool_call_by_id(bencher: divan::Bencher, live: usize) {
    let (telemetry, sessions) = with_live_sessions(live);
    let id = sessions[live / 2].id().to_owned();
    bencher.bench_local(|| {
        telemetry.record_tool_call(
            black_box("read_file"),
            black_box(&id),
            "bench-agent",
            Duration::from_millis(3),
            Outcome::Success,
        );
    });
}

/// 100,000 sessions started, then all ended: the whole run, per session
/// (divan divides by the item count).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn hundred_thousand_started_then_ended(bencher: divan::Bencher) {
    const SESSIONS: usize = 100_000;
    let telemetry = client_with_sink(Discard);
    bencher
        .counter(divan::counter::ItemsCount::new(SESSIONS))
        .bench_local(|| {
            let sessions: Vec<Session> = (0..SESSIONS)
                .map(|_| telemetry.start_session("bench-agent"))
                .collect();
            for session in sessions {
                session.end();
            }
        });
}
