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

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use telemetry_test_support::collector::{Behaviour, Collector};

const RUNS: usize = 11;
const STEPS: &str = "1000";

fn agent() -> PathBuf {
    std::env::var_os("AGENT").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/release/examples")
                .join(format!("agent{}", std::env::consts::EXE_SUFFIX))
        },
        PathBuf::from,
    )
}

/// A fresh config dir and home for one run, removed when dropped.
struct Dirs(PathBuf);

impl Dirs {
    fn new() -> Dirs {
        let dir = std::env::temp_dir().join(format!(
            "telemetry-bench-loops-{}-{:?}",
            std::process::id(),
            Instant::now()
        ));
        std::fs::create_dir_all(dir.join("config")).expect("temp config dir");
        std::fs::create_dir_all(dir.join("home")).expect("temp home");
        Dirs(dir)
    }
}

impl Drop for Dirs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One `agent --delivery background run --steps 1000` run; its wall time.
fn run_agent(dirs: &Dirs, endpoint: &str, env: &[(&str, &str)]) -> Duration {
    let mut command = Command::new(agent());
    command
        .args(["--delivery", "background", "run", "--steps", STEPS, "hello"])
        .env_clear()
        .env("XDG_CONFIG_HOME", dirs.0.join("config"))
        .env("HOME", dirs.0.join("home"))
        .env("TELEMETRY_ENDPOINT", endpoint)
        .env("TELEMETRY_HIDE_BANNER", "1")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let status = command
        .status()
        .expect("the agent runs (cargo build --release --example agent)");
    let wall = started.elapsed();
    assert!(status.success());
    wall
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn main() {
    let collector = Collector::builder()
        .behaviour(Behaviour::Delay(Duration::from_millis(50)))
        .start()
        .expect("collector");
    let url = collector.url();
    let (mut off, mut on) = (Vec::new(), Vec::new());
    let mut per_run = Vec::new();
    for _ in 0..RUNS {
        let dirs = Dirs::new();
        off.push(run_agent(&dirs, &url, &[("TELEMETRY_ENABLED", "false")]));
        let (records, requests) = (collector.records().len(), collector.requests().len());
        on.push(run_agent(&dirs, &url, &[]));
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
    println!(
        "  telemetry on            {}  (on - off: +{})",
        ms(on),
        ms(on.saturating_sub(off))
    );
    println!(
        "  sent per run            {records} records in {requests} request(s), {bytes} bytes of body ({:.0} bytes a record)",
        bytes as f64 / records.max(1) as f64
    );
    let all_same = per_run.iter().all(|run| run.0 == records);
    println!("  records the same in every run: {all_same} ({per_run:?})");
}
