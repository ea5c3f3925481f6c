//! An agent loop at scale, measured from outside: `agent --delivery
//! background run --steps 1000` (1,000 tool calls, the agent's
//! `tool_rollup(50)` on) against a collector that answers after 50 ms,
//! telemetry on against off: wall time, and the records and bytes the
//! collector received. The numbers are written up in
//! `docs/performance.md`.
//!
//! ```text
//! cargo build --release --example agent
//! cargo bench --bench agent_loops
//! ```
//!
//! The agent binary is `target/release/examples/agent`, or `$AGENT`.

mod support;

use std::time::Duration;
use support::{agent_dirs, median, ms, print_against_off, run_agent};
use telemetry_test_support::collector::{Behaviour, Collector};

const RUNS: usize = 11;
const STEPS: &str = "1000";
/// `agent --delivery background run --steps 1000 hello`.
const RUN: [&str; 6] = ["--delivery", "background", "run", "--steps", STEPS, "hello"];

fn main() {
    let collector = Collector::builder()
        .behaviour(Behaviour::Delay(Duration::from_millis(50)))
        .start()
        .expect("collector");
    let url = collector.url();
    let (mut off, mut on) = (Vec::new(), Vec::new());
    let mut per_run = Vec::new();
    for _ in 0..RUNS {
        let dirs = agent_dirs("loops");
        off.push(run_agent(
            &dirs,
            &url,
            &RUN,
            &[("TELEMETRY_ENABLED", "false")],
        ));
        let (records, requests) = (collector.records().len(), collector.requests().len());
        on.push(run_agent(&dirs, &url, &RUN, &[]));
        let sent = &collector.requests()[requests..];
        let bytes: usize = sent.iter().map(|request| request.body.len()).sum();
        per_run.push((collector.records().len() - records, sent.len(), bytes));
    }
    let (off, on) = (median(off), median(on));
    let (records, requests, bytes) = per_run[per_run.len() / 2];
    println!(
        "agent --delivery background run --steps {STEPS}, collector answering after 50 ms, {RUNS} runs each (median):"
    );
    println!("  telemetry off           {}", ms(off));
    print_against_off("telemetry on", on, off, "");
    println!(
        "  sent per run            {records} records in {requests} request(s), {bytes} bytes of body ({:.0} bytes a record)",
        bytes as f64 / records.max(1) as f64
    );
    let all_same = per_run.iter().all(|run| run.0 == records);
    println!("  records the same in every run: {all_same} ({per_run:?})");
}
