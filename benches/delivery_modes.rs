//! What each delivery mode costs a process, measured from outside: the
//! `agent` example run as a process against loopback collectors that
//! answer slowly or never, and 1,000 tracked tool calls in this process.
//! The numbers are written up in `docs/delivery.md`.
//!
//! ```text
//! cargo build --release --example agent
//! cargo bench --bench delivery_modes            # all
//! cargo bench --bench delivery_modes -- agent   # one part: agent, calls, blackhole, slow
//! ```
//!
//! The agent binary is `target/release/examples/agent`, or `$AGENT`.

mod support;

use std::time::{Duration, Instant};
use support::{agent_dirs, median, ms, print_against_off, run_agent};
use telemetry_core::{tracked_tool, Delivery, Telemetry};
use telemetry_test_support::collector::{Behaviour, Collector};

const RUNS: usize = 21;
const RUN: [&str; 2] = ["run", "hello"];

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let wants = |part: &str| only.is_empty() || only.iter().any(|name| name == part);
    if wants("agent") {
        agent_runs();
    }
    if wants("calls") {
        tool_calls();
    }
    if wants("blackhole") {
        blackhole();
    }
    if wants("slow") {
        slow_collector();
    }
}

fn args(mode: &str) -> Vec<&str> {
    let mut args = vec!["--delivery", mode];
    args.extend(RUN);
    args
}

/// `agent run` against a collector that waits 50 ms per answer: 21 runs
/// each off, inline and background, interleaved; median wall time, and the
/// records received when each process had exited.
fn agent_runs() {
    let collector = Collector::builder()
        .behaviour(Behaviour::Delay(Duration::from_millis(50)))
        .retain(false)
        .start()
        .expect("collector");
    let dirs = agent_dirs("agent");
    let url = collector.url();
    let (mut off, mut inline, mut background) = (Vec::new(), Vec::new(), Vec::new());
    let (mut inline_min, mut background_min) = (usize::MAX, usize::MAX);
    for _ in 0..RUNS {
        off.push(run_agent(
            &dirs,
            &url,
            &args("inline"),
            &[("TELEMETRY_ENABLED", "false")],
        ));
        let before = collector.records_received();
        inline.push(run_agent(&dirs, &url, &args("inline"), &[]));
        inline_min = inline_min.min(collector.records_received() - before);
        let before = collector.records_received();
        background.push(run_agent(&dirs, &url, &args("background"), &[]));
        background_min = background_min.min(collector.records_received() - before);
    }
    let (off, inline, background) = (median(off), median(inline), median(background));
    println!("agent run, collector waiting 50 ms per answer, {RUNS} runs each (median):");
    println!("  telemetry off           {}", ms(off));
    let note = |min: usize| format!(", records received at exit: at least {min}/8");
    print_against_off("inline", inline, off, &note(inline_min));
    print_against_off("background", background, off, &note(background_min));
}

#[tracked_tool]
fn tool_call(n: u64) -> Result<u64, std::fmt::Error> {
    Ok(n.wrapping_mul(31))
}

/// Wall time of `calls` tracked tool calls in a session, then the exit
/// flush (the guard's drop), with this client.
fn calls_with(telemetry: &Telemetry, calls: u64) -> Duration {
    let started = Instant::now();
    {
        let _flush = telemetry.flush_guard();
        telemetry.scope(|| {
            let session = telemetry.start_session("bench");
            session.scope(|| {
                for n in 0..calls {
                    std::hint::black_box(tool_call(n).ok());
                }
            });
            session.end();
        });
    }
    started.elapsed()
}

/// 1,000 tracked tool calls in one process against the 50 ms collector.
fn tool_calls() {
    let collector = Collector::builder()
        .behaviour(Behaviour::Delay(Duration::from_millis(50)))
        .start()
        .expect("collector");
    let client = |delivery: Delivery, dir: &telemetry_test_support::TempDir| {
        Telemetry::builder("bench", "1.0.0")
            .endpoint(collector.url())
            .config_dir(dir.join("config"))
            .notice(false)
            .env(|_| None)
            .delivery(delivery)
            .build()
    };
    let off = median(
        (0..5)
            .map(|_| calls_with(&Telemetry::disabled(), 1_000))
            .collect(),
    );
    let mut background = Vec::new();
    let mut received = usize::MAX;
    let mut requests = Vec::new();
    for _ in 0..5 {
        let dir = agent_dirs("calls");
        let (before, requests_before) = (collector.records_received(), collector.requests().len());
        background.push(calls_with(&client(Delivery::Background, &dir), 1_000));
        received = received.min(collector.records_received() - before);
        requests.push(collector.requests().len() - requests_before);
    }
    let background = median(background);
    let dir = agent_dirs("calls-inline");
    let inline_40 = calls_with(&client(Delivery::Inline, &dir), 40);
    println!("1,000 tracked tool calls in one process (+ session start/end), 50 ms collector:");
    println!("  telemetry off           {} (median of 5)", ms(off));
    print_against_off(
        "background",
        background,
        off,
        &format!(
            " (median of 5), records received by the exit flush: at least {received}/1002, requests per run: {requests:?}"
        ),
    );
    println!(
        "  inline, 40 calls only   {} (about {:.1} s for 1,000)",
        ms(inline_40),
        inline_40.as_secs_f64() * 1_002.0 / 42.0
    );
}

/// A collector that never answers: background `agent run`, median of 5,
/// against the same run with telemetry off.
fn blackhole() {
    let collector = Collector::start_with(Behaviour::Blackhole).expect("collector");
    let dirs = agent_dirs("blackhole");
    let url = collector.url();
    let (mut off, mut background) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        off.push(run_agent(
            &dirs,
            &url,
            &args("inline"),
            &[("TELEMETRY_ENABLED", "false")],
        ));
        background.push(run_agent(&dirs, &url, &args("background"), &[]));
    }
    let (off, background) = (median(off), median(background));
    println!("agent run, collector that never answers (median of 5):");
    print_against_off("background", background, off, " (exit budget 1 s)");
}

/// A collector that answers 200 after 1.9 s (timeout 2 s): inline `agent run`.
fn slow_collector() {
    let collector =
        Collector::start_with(Behaviour::Delay(Duration::from_millis(1_900))).expect("collector");
    let dirs = agent_dirs("slow");
    let url = collector.url();
    let off = run_agent(
        &dirs,
        &url,
        &args("inline"),
        &[("TELEMETRY_ENABLED", "false")],
    );
    let inline = run_agent(&dirs, &url, &args("inline"), &[]);
    // The collector lists a request after its delay: wait for the last.
    let _ = collector.wait_for_records(3, Duration::from_secs(5));
    println!("agent run, collector answering after 1.9 s (timeout 2 s, budget 4 s), one run:");
    let requests = collector.requests().len();
    print_against_off(
        "inline",
        inline,
        off,
        &format!("; requests made: {requests}"),
    );
}
