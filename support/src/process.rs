//! Running one test alone in a process of its own.
//!
//! A few tests observe the whole process: the threads it runs, a warning
//! printed once per process, the process-wide "an enabled client exists"
//! switch, the global client. Each of them used to need a test executable
//! of its own; [`run_alone`] gives them a fresh process of the same
//! executable instead, so they can live in the module of their behaviour.

use std::process::Command;

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
