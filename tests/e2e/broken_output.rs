//! The agent example with nobody reading its output: stdout or stderr a
//! broken pipe (`agent run ... 2>&1 | head -c0`, a log reader that went
//! away). It must neither panic nor exit 101, and its records say the
//! command succeeded.
//!
//! (A stderr that is closed outright, `2>&-`, is reopened on `/dev/null` by
//! Rust's runtime before `main` on Linux, so the broken pipe is the case
//! that reaches the program.)

use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use telemetry_test_support::agent::{agent_binary, past_notice, Agent, RUN_LIMIT};
use telemetry_test_support::collector::Collector;

/// The write end of a pipe whose read end is already closed: every write
/// fails with `EPIPE`.
fn broken_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array of two descriptors for `pipe` to fill.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: `pipe` succeeded, so both descriptors are open and ours.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

enum Broken {
    Stdout,
    Stderr,
}

/// Runs the agent in `agent`'s environment with `broken` a broken pipe and
/// the other output discarded; returns its exit status.
fn run_broken(agent: &Agent, args: &[&str], broken: Broken, endpoint: &str) -> ExitStatus {
    let (stdout, stderr) = match broken {
        Broken::Stdout => (broken_pipe(), Stdio::null()),
        Broken::Stderr => (Stdio::null(), broken_pipe()),
    };
    let mut child = Command::new(agent_binary())
        .args(args)
        .env_clear()
        .env("XDG_CONFIG_HOME", agent.xdg_config_home())
        .env("HOME", agent.home())
        .env("TELEMETRY_ENDPOINT", endpoint)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("the agent starts");
    // A safety net against a hung agent, not a timing check.
    let deadline = Instant::now() + RUN_LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for the agent") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("the agent did not exit within {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn command_records(collector: &Collector, action: &str) -> Vec<serde_json::Value> {
    collector
        .records()
        .into_iter()
        .filter(|record| record["event"] == "command" && record["properties"]["action"] == action)
        .collect()
}

/// Regression: `agent run ... 2>&-` exited 101: its own `eprintln!` of the
/// failed tool panicked, and the panic was recorded as the run's error.
#[test]
fn a_broken_stderr_neither_panics_nor_fails_the_run() {
    let (collector, agent) = past_notice();
    // `run` writes the failed tool's message to stderr; `--debug` writes
    // every record there too.
    let status = run_broken(
        &agent,
        &["--debug", "run", "hello"],
        Broken::Stderr,
        &collector.url(),
    );
    assert_eq!(status.code(), Some(0), "{status:?}");
    let runs = command_records(&collector, "run");
    assert_eq!(runs.len(), 1, "{:?}", collector.records());
    assert_eq!(runs[0]["properties"]["is_success"], true, "{}", runs[0]);
}

/// The same for stdout: `agent version | head -c0`.
#[test]
fn a_broken_stdout_neither_panics_nor_fails_the_command() {
    let (collector, agent) = past_notice();
    for args in [&["version"][..], &["run", "hello"]] {
        let status = run_broken(&agent, args, Broken::Stdout, &collector.url());
        assert_eq!(status.code(), Some(0), "{args:?}: {status:?}");
        let records = command_records(&collector, args[0]);
        assert_eq!(records.len(), 1, "{args:?}: {:?}", collector.records());
        assert_eq!(
            records[0]["properties"]["is_success"], true,
            "{}",
            records[0]
        );
    }
}

/// The `telemetry` subcommands write to stdout too: a broken pipe there
/// (`agent telemetry status | head -c0`) is no panic either.
#[test]
fn the_telemetry_subcommands_survive_a_broken_stdout() {
    let (collector, agent) = past_notice();
    for args in [
        &["telemetry", "status"][..],
        &["telemetry", "status", "--json"],
    ] {
        let status = run_broken(&agent, args, Broken::Stdout, &collector.url());
        assert_eq!(status.code(), Some(0), "{args:?}: {status:?}");
    }
}

/// A failing command still exits 1, not 101, with nobody reading stderr.
#[test]
fn a_failing_command_with_a_broken_stderr_exits_1() {
    let (collector, agent) = past_notice();
    let status = run_broken(&agent, &["fail"], Broken::Stderr, &collector.url());
    assert_eq!(status.code(), Some(1), "{status:?}");
    let fails = command_records(&collector, "fail");
    assert_eq!(fails.len(), 1);
    assert_eq!(fails[0]["properties"]["is_success"], false);
    assert_eq!(fails[0]["properties"]["error"], "AlwaysFails");
}
