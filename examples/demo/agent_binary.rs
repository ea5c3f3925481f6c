//! Finding the `agent` example's binary (see "How the agent is found" in
//! the demo's docs).

use std::path::PathBuf;
use telemetry_test_support::agent::{self, Features};

/// The `agent` example's binary, built first when the demo runs under cargo.
pub fn find_agent() -> Result<PathBuf, String> {
    let exe = std::env::current_exe()
        .map_err(|error| format!("cannot find the demo's own executable: {error}"))?;
    // <target-dir>/<profile>/examples/demo
    let profile_dir = agent::profile_dir_of(&exe)
        .ok_or("the demo's executable is not in <target-dir>/<profile>/examples")?;
    if let Some(cargo) = std::env::var_os("CARGO") {
        eprintln!("demo: building the agent example (cargo build --example agent)...");
        return agent::build(&cargo, profile_dir, Features::RootPackage);
    }
    let agent = agent::binary_in(profile_dir);
    if agent.is_file() {
        Ok(agent)
    } else {
        Err(format!(
            "the agent example is not built (looked for {}).\n\
             Build it with `cargo build --examples`, or run the demo with `cargo run --example demo`.",
            agent.display()
        ))
    }
}
