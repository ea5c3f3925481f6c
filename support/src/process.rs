//! Running one test alone in a process of its own.
//!
//! A few tests observe the whole process: the threads it runs, a warning
//! printed once per process, the process-wide "an enabled client exists"
//! switch, the global client. Each of them used to need a test executable
//! of its own; [`run_alone`] gives them a fresh process of the same
//! executable instead, so they can live in the module of their behaviour.
//!
//! A few others need several processes started at once (first runs racing
//! for one config dir): [`run_together`] starts them from the same
//! executable, and lets them go together.
//!
//! And a server run as a process tells where it listens on its first line:
//! [`spawn_announcing`] starts it and reads that line.

use std::ffi::OsStr;
use std::io::Write;
use std::process::{Child, Command, Stdio};

/// The variable that tells a child process which test it runs alone.
const ALONE: &str = "TELEMETRY_TEST_ALONE";

/// Runs `body` as the only test of a fresh process of this test executable.
///
/// `test` is the test's full name as the harness lists it
/// (`module::test_name`): called from that test, `run_alone` starts this
/// executable again with `test --exact --test-threads=1`, in which call it
/// runs `body`, and it fails unless that process ran exactly this one test
/// and it passed. The child's output is shown on failure.
pub fn run_alone(test: &str, body: impl FnOnce()) {
    if std::env::var_os(ALONE).is_some_and(|name| name == test) {
        body();
        return;
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    let output = Command::new(exe)
        .args([test, "--exact", "--test-threads=1", "--nocapture"])
        .env(ALONE, test)
        .output()
        .expect("the test executable runs again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("running 1 test") && stdout.contains("1 passed"),
        "{test}, alone in its own process ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
}

/// The variable that tells a child process it is one of [`run_together`]'s.
const TOGETHER: &str = "TELEMETRY_TEST_TOGETHER";

/// Runs `count` processes of this test executable at once, each running
/// the ignored test `test` (its full name, `module::test_name`) with `env`
/// added, and returns each one's stderr once all have exited. Fails unless
/// each of them ran that one test and it passed.
///
/// All of them are started before any is let go: `test` calls
/// [`wait_for_the_others`] first, which returns once every process has
/// been started (a line on its stdin), so that what follows runs in all of
/// them at about the same moment, as programs a shell starts in parallel.
pub fn run_together(test: &str, count: usize, env: &[(&str, &OsStr)]) -> Vec<String> {
    let exe = std::env::current_exe().expect("the test executable's path");
    let mut children: Vec<Child> = (0..count)
        .map(|_| {
            Command::new(&exe)
                .args([
                    test,
                    "--exact",
                    "--ignored",
                    "--test-threads=1",
                    "--nocapture",
                ])
                .env(TOGETHER, test)
                .envs(env.iter().copied())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the test executable runs again")
        })
        .collect();
    // Every process has started: let them all go.
    for child in &mut children {
        let mut stdin = child.stdin.take().expect("a piped stdin");
        stdin.write_all(b"go\n").expect("the go line");
    }
    children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().expect("the process ran");
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            assert!(
                output.status.success()
                    && stdout.contains("running 1 test")
                    && stdout.contains("1 passed"),
                "{test}, one of {count} together ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
                output.status
            );
            stderr
        })
        .collect()
}

/// In a test run by [`run_together`]: waits until every process has been
/// started, and returns `true`. Outside such a run (the test run on its own,
/// as `--ignored` would) returns `false` at once: the test then does
/// nothing.
pub fn wait_for_the_others(test: &str) -> bool {
    if std::env::var_os(TOGETHER).is_none_or(|name| name != test) {
        return false;
    }
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    true
}

/// Starts `command` with its stdout piped and returns the child and the
/// first line it printed, trimmed (such as the address a server
/// announces). Reads that line byte by byte, so that nothing after it is
/// taken from the child's stdout. Panics if the command cannot start or
/// ends before a line.
pub fn spawn_announcing(mut command: Command) -> (Child, String) {
    use std::io::Read;
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{command:?} starts: {error}"));
    let stdout = child.stdout.as_mut().expect("a piped stdout");
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while stdout.read(&mut byte).expect("the child's stdout") == 1 && byte[0] != b'\n' {
        line.push(byte[0]);
    }
    assert!(!line.is_empty(), "{command:?} printed no first line");
    (child, String::from_utf8_lossy(&line).trim().to_owned())
}
