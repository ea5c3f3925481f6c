//! What the process benchmarks (`agent_loops`, `delivery_modes`,
//! `short_run`) share: the release examples they run, a fresh config dir
//! and home per agent, the agent's command line and environment, and the
//! wall time of a run, summed up as a median.
//!
//! Every run talks to 127.0.0.1 only and starts from an empty environment
//! plus what is given here, so the machine's own `TELEMETRY_*`, `CI` or
//! `HOME` change nothing.

// Each benchmark binary uses part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use telemetry_test_support::TempDir;

/// The release build of the example `name`
/// (`target/release/examples/<name>`), or the path in the variable of its
/// name in capitals (`$AGENT`, `$RAW_POST`).
pub fn release_example(name: &str) -> PathBuf {
    std::env::var_os(name.to_uppercase()).map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/release/examples")
                .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
        },
        PathBuf::from,
    )
}

/// A fresh temporary dir with `config` (the agent's `XDG_CONFIG_HOME`) and
/// `home` (its `HOME`) in it, removed when dropped.
pub fn agent_dirs(label: &str) -> TempDir {
    let dir = TempDir::new(&format!("bench-{label}"));
    for sub in ["config", "home"] {
        std::fs::create_dir(dir.join(sub)).expect("a temp dir");
    }
    dir
}

/// The release agent with `args`, in `dirs` ([`agent_dirs`]), sending to
/// `endpoint`, its banner hidden, in an empty environment plus `env`; its
/// output discarded.
pub fn agent_command(
    dirs: &TempDir,
    endpoint: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Command {
    let mut command = Command::new(release_example("agent"));
    command
        .args(args)
        .env_clear()
        .env("XDG_CONFIG_HOME", dirs.join("config"))
        .env("HOME", dirs.join("home"))
        .env("TELEMETRY_ENDPOINT", endpoint)
        .env("TELEMETRY_HIDE_BANNER", "1")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Runs `command` to its end; its wall time. Panics unless it succeeded.
pub fn timed(command: &mut Command) -> Duration {
    let started = Instant::now();
    let status = command
        .status()
        .unwrap_or_else(|error| panic!("{command:?} runs (build the release examples): {error}"));
    let wall = started.elapsed();
    assert!(status.success(), "{command:?}: {status}");
    wall
}

/// One agent run ([`agent_command`]); its wall time.
pub fn run_agent(dirs: &TempDir, endpoint: &str, args: &[&str], env: &[(&str, &str)]) -> Duration {
    timed(&mut agent_command(dirs, endpoint, args, env))
}

/// The median of `times`.
pub fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// `duration` in milliseconds, for a table.
pub fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// One line of a results table: `label`, its `time`, and how much more
/// that is than `off` (the same run with telemetry off), then `note`.
pub fn print_against_off(label: &str, time: Duration, off: Duration, note: &str) {
    println!(
        "  {label:<23} {}  (+{}){note}",
        ms(time),
        ms(time.saturating_sub(off))
    );
}
