//! Where and how the agent runs: its command line, shown as a user would
//! type it, and an environment cleared of the user's telemetry settings.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

/// Whether `name` is a variable the demo clears for the agent, so that
/// settings in the user's own environment do not change what the demo
/// shows: every `TELEMETRY_*` and `AGENT_TELEMETRY_*` variable (those the
/// toolkit reads today and any it reads later), `DO_NOT_TRACK`, and `CI`
/// (the demo shows a user's machine, and in CI the app's CI policy would
/// skip the first-run notice and its hold).
fn is_cleared_for_the_agent(name: &str) -> bool {
    name == "CI"
        || name == "DO_NOT_TRACK"
        || name.starts_with("TELEMETRY_")
        || name.starts_with("AGENT_TELEMETRY_")
}

/// The variables of the demo's own environment that
/// [`is_cleared_for_the_agent`], sorted.
pub fn cleared_for_the_agent() -> Vec<String> {
    let mut names: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| is_cleared_for_the_agent(name))
        .collect();
    names.sort();
    names
}

/// Where and how the agent runs.
pub struct AgentEnv<'a> {
    /// The agent's binary.
    pub binary: &'a Path,
    /// `TELEMETRY_ENDPOINT`: the relay's address.
    pub endpoint: String,
    /// `XDG_CONFIG_HOME`: a fresh temporary dir.
    pub config_home: &'a Path,
    /// `HOME`: a fresh temporary dir.
    pub home: &'a Path,
}

impl AgentEnv<'_> {
    /// Runs the agent with the terminal's stdout and stderr, as a user would
    /// see it; returns its exit code.
    pub fn run(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Result<i32, String> {
        let shown: Vec<String> = extra_env
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .chain(std::iter::once("agent".to_owned()))
            .chain(args.iter().map(|arg| shell_quote(arg)))
            .collect();
        println!("$ {}", shown.join(" "));
        let _ = std::io::stdout().flush();
        let mut command = Command::new(self.binary);
        command.args(args);
        for name in cleared_for_the_agent() {
            command.env_remove(name);
        }
        command
            .env("TELEMETRY_ENDPOINT", &self.endpoint)
            .env("XDG_CONFIG_HOME", self.config_home)
            .env("HOME", self.home)
            .envs(extra_env.iter().copied());
        let status = command
            .status()
            .map_err(|error| format!("cannot run {}: {error}", self.binary.display()))?;
        Ok(status.code().unwrap_or(-1))
    }
}

/// `arg` as a POSIX shell would need it typed: as is when plain, else
/// single-quoted.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_=./:@".contains(&byte));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}
