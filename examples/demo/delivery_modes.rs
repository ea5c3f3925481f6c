//! Run 7: inline and background delivery, side by side, against a
//! collector 50 ms away.

use crate::agent_env::cleared_for_the_agent;
use std::path::Path;
use std::process::Command;

/// One `agent --delivery <mode>` run against the 50 ms collector.
pub struct ModeRun {
    /// The agent's exit code (-1 when a signal ended it).
    pub code: i32,
    /// The records the collector had received when the agent exited.
    pub received: usize,
}

/// Runs the agent once per delivery mode against a collector that waits
/// 50 ms before each answer (telemetry on, no notice run: the banner is
/// hidden), and prints wall time and records received at exit.
pub fn delivery_modes(
    agent: &Path,
    temp: &Path,
    run_args: &[&str],
) -> Result<Vec<ModeRun>, String> {
    let slow = telemetry_test_support::collector::Collector::builder()
        .behaviour(telemetry_test_support::collector::Behaviour::Delay(
            std::time::Duration::from_millis(50),
        ))
        .start()
        .map_err(|error| format!("cannot start the 50 ms collector: {error}"))?;
    let home = temp.join("delivery-home");
    std::fs::create_dir_all(&home).map_err(|error| format!("cannot create {home:?}: {error}"))?;
    println!("mode        wall time   records received when the agent exited");
    let mut runs = Vec::new();
    for mode in ["inline", "background"] {
        let before = slow.records().len();
        let mut command = Command::new(agent);
        command.args(["--delivery", mode]).args(run_args);
        for name in cleared_for_the_agent() {
            command.env_remove(name);
        }
        command
            .env("TELEMETRY_ENDPOINT", slow.url())
            .env("TELEMETRY_HIDE_BANNER", "1")
            .env("XDG_CONFIG_HOME", temp.join("delivery-config"))
            .env("HOME", &home)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let started = std::time::Instant::now();
        let status = command
            .status()
            .map_err(|error| format!("cannot run {}: {error}", agent.display()))?;
        let wall = started.elapsed();
        let received = slow.records().len() - before;
        println!("{mode:<11} {:>6} ms   {received}", wall.as_millis());
        runs.push(ModeRun {
            code: status.code().unwrap_or(-1),
            received,
        });
    }
    println!("Inline waits for each answer; background spools, sends batches from a thread,");
    println!("and flushes once at exit (at most 1 s). See docs/delivery.md.");
    Ok(runs)
}
