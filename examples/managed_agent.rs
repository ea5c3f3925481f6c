//! `managed_agent`: the `agent` example's `run` as a machine policy sees
//! it, for tests of policy files and of a raised notice version as
//! separate processes.
//!
//! ```text
//! cargo run --example managed_agent -- --policy-dir DIR [--notice-version N] [--notice-changes TEXT] run PROMPT...
//! cargo run --example managed_agent -- --policy-dir DIR telemetry status [--json] | enable [--errors-only]
//! ```
//!
//! The machine policy files are at fixed paths (`/etc/telemetry-policy`,
//! `/etc/agent/telemetry-policy`, ...), which no variable moves; a test
//! cannot write there, so this program uses the builder's test setter,
//! `policy_dir`, with the directory given by `--policy-dir`. It is the app
//! `agent` (its variables, its config dir), and its `run` records what
//! `agent run` does: a session of `root` whose `search_web` tool fails.

use std::io::{self, Write};
use std::process::ExitCode;
use telemetry_core::{tracked_command, tracked_tool, Telemetry};

const USAGE: &str = "usage: managed_agent --policy-dir DIR [--notice-version N] \
[--notice-changes TEXT] (run PROMPT... | telemetry status [--json] | telemetry enable [--errors-only])";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let mut policy_dir = None;
    let mut notice_version = 1;
    let mut notice_changes = None;
    while let Some(flag) = args.peek().filter(|arg| arg.starts_with("--")).cloned() {
        args.next();
        let value = args.next();
        match (flag.as_str(), value) {
            ("--policy-dir", Some(dir)) => policy_dir = Some(dir),
            ("--notice-version", Some(n)) => match n.parse() {
                Ok(n) => notice_version = n,
                Err(_) => return usage(),
            },
            ("--notice-changes", Some(text)) => notice_changes = Some(text),
            _ => return usage(),
        }
    }
    let Some(policy_dir) = policy_dir else {
        return usage();
    };
    let mut builder = Telemetry::builder("agent", env!("CARGO_PKG_VERSION"))
        .policy_dir(policy_dir)
        .notice_version(notice_version);
    if let Some(changes) = notice_changes {
        builder = builder.notice_changes(changes);
    }
    let words: Vec<String> = args.collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let done = match words.as_slice() {
        ["telemetry", "status"] => {
            let _ = write!(io::stdout(), "{}", builder.controls().status());
            Ok(())
        }
        ["telemetry", "status", "--json"] => {
            let _ = writeln!(io::stdout(), "{}", builder.controls().status().to_json());
            Ok(())
        }
        ["telemetry", "enable"] => builder.controls().enable(),
        ["telemetry", "enable", "--errors-only"] => builder.controls().enable_errors_only(),
        ["run", prompt @ ..] if !prompt.is_empty() => {
            let telemetry = builder.build();
            let _flush = telemetry.flush_guard();
            telemetry.scope(run_agent);
            Ok(())
        }
        _ => return usage(),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(io::stderr(), "managed_agent: {error}");
            ExitCode::from(1)
        }
    }
}

fn usage() -> ExitCode {
    let _ = writeln!(io::stderr(), "{USAGE}");
    ExitCode::from(2)
}

/// `run`: a session of `root`, two model calls, three tools of which
/// `search_web` fails, as in `agent run`.
#[tracked_command(name = "run")]
fn run_agent() {
    let session = telemetry_core::start_session("root");
    session.scope(|| {
        plan_steps();
        telemetry_core::record_token_usage("gpt-4o", 1200, 150, 0.0045);
        let _ = read_file();
        let _ = search_web();
        telemetry_core::record_token_usage("gpt-4o", 1800, 350, 0.008);
    });
    session.end();
}

#[tracked_tool]
fn plan_steps() -> usize {
    3
}

#[tracked_tool]
fn read_file() -> io::Result<String> {
    Ok("the telemetry toolkit".to_owned())
}

#[tracked_tool]
fn search_web() -> io::Result<Vec<String>> {
    Err(io::Error::new(io::ErrorKind::NotFound, "no results"))
}
