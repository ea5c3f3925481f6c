//! `demo`: the toolkit end to end, in one command.
//!
//! ```text
//! cargo run --example demo              # runs, prints the report, exits
//! cargo run --example demo -- --serve   # ... then keeps the dashboard up until Ctrl-C
//! ```
//!
//! It starts `telemetry-collector` in this process on a free loopback port
//! and a temporary database, with a small relay in front of it that counts
//! the connections made and keeps a copy of the bytes sent (so that the
//! demo can show that a run opened no connection, and that no request held
//! the prompt). Then it runs the `agent` example (`examples/agent.rs`) as
//! its own process, with a fresh temporary config dir, exactly as a user
//! would run it:
//!
//! 1. a first run, which shows the notice and sends nothing;
//! 2. the same command again, which sends;
//! 3. `agent fail`, a command that fails;
//! 4. the first command with `TELEMETRY_ENABLED=false`, which opens no
//!    connection at all;
//! 5. two more sessions on other models (each session: three tools, one of
//!    which fails, and two model calls);
//! 6. the first command against a second collector that waits 50 ms before
//!    each answer (as one across the internet does), with `--delivery
//!    inline` and then `--delivery background`: wall time and records
//!    received at exit, side by side;
//!
//! and prints what the collector stored as a table, the collector's report
//! (`telemetry-collector report`: every view, with sparklines), the
//! dashboard's address, and how to opt out. It also checks what it shows
//! (the first and the opted-out runs open no connection, the second sends,
//! `fail` exits 1, no request holds the prompt, the report counts the runs
//! that were made) and exits with code 1, saying what broke, when any of it
//! did not hold; CI runs it.
//!
//! # How the agent is found
//!
//! The agent runs as a separate process because that is what a user sees
//! (the notice, the exit code, its own command line). Cargo builds only the
//! example it is asked to run, so when started by `cargo run` (which sets
//! `CARGO`) the demo first runs `cargo build --example agent` for the same
//! profile and target dir: a no-op when the agent is up to date, a few
//! seconds on a fresh clone. Started any other way, it uses the `agent`
//! binary next to its own executable (`target/<profile>/examples/`), and
//! says to run `cargo build --examples` when there is none. The build, the
//! temporary dir and the 50 ms collector are the ones the end-to-end tests
//! use (the workspace's `telemetry-test-support` crate).

mod agent_binary;
mod agent_env;
mod delivery_modes;
mod in_process_collector;
mod relay;
mod report_check;
mod stored;
mod table;

use agent_binary::find_agent;
use agent_env::{cleared_for_the_agent, AgentEnv};
use delivery_modes::delivery_modes;
use in_process_collector::InProcessCollector;
use relay::Relay;
use report_check::report_mismatches;
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::process::ExitCode;
use stored::{records_of, stored_records};
use table::table;
use telemetry_collector::{day, report, signal, Store};
use telemetry_core::NOTICE_MARKER_FILE;
use telemetry_test_support::fs::entries;
use telemetry_test_support::marker::try_wait_until_older_than_any_later_start;
use telemetry_test_support::TempDir;

/// The prompt the demo gives the agent: it must never reach the collector.
const PROMPT: &str = "Summarise my private notes on Project Falcon";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let serve = match args.as_slice() {
        [] => false,
        [flag] if flag == "--serve" => true,
        _ => {
            eprintln!("usage: cargo run --example demo [-- --serve]");
            return ExitCode::from(2);
        }
    };
    match demo(serve) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("demo: {message}");
            ExitCode::from(1)
        }
    }
}

/// Runs the steps, printing each; the error says which of the promises
/// shown did not hold.
fn demo(serve: bool) -> Result<(), String> {
    let agent = find_agent()?;
    let temp = TempDir::try_new("demo")
        .map_err(|error| format!("cannot create a temporary dir: {error}"))?;
    let db = temp.path().join("telemetry.db");
    let collector = InProcessCollector::start(&db)?;
    let relay = Relay::start(collector.address)
        .map_err(|error| format!("cannot start the relay: {error}"))?;
    let store = Store::open_read_only(&db).map_err(|error| error.to_string())?;
    let config_home = temp.path().join("config");
    let home = temp.path().join("home");
    std::fs::create_dir(&home).map_err(|error| format!("cannot create {home:?}: {error}"))?;

    heading("Telemetry toolkit demo");
    println!(
        "telemetry-collector is listening on http://{} (in this process), database {}.",
        collector.address,
        db.display()
    );
    println!(
        "In front of it, on {}, a relay counts connections and keeps a copy of what is sent.",
        relay.address
    );
    let endpoint = format!("http://{}/v1/events", relay.address);
    println!("The agent (examples/agent.rs) runs as its own process, with");
    println!("  TELEMETRY_ENDPOINT={endpoint}");
    println!(
        "  XDG_CONFIG_HOME={}   (fresh: this is the agent's first run)",
        config_home.display()
    );
    println!("  HOME={}", home.display());
    let overridden = cleared_for_the_agent();
    if !overridden.is_empty() {
        println!(
            "  ({} from your environment are not passed to the agent, so the demo shows the defaults.)",
            overridden.join(", ")
        );
    }

    let agent_env = AgentEnv {
        binary: &agent,
        endpoint,
        config_home: &config_home,
        home: &home,
    };
    let run_args = ["run", "--model", "gpt-4o", PROMPT];
    let stored = || stored_records(&store);

    // What the demo shows is also what it checks: a run that breaks a promise
    // is reported at the end, and the demo exits with code 1.
    let mut broken: Vec<&str> = Vec::new();
    // The `run` sessions that sent their records to the collector.
    let mut sessions_sent = 0;

    heading("Run 1: the first run shows the notice and sends nothing");
    let code = agent_env.run(&run_args, &[])?;
    if code != 0 || relay.connections() != 0 || stored() != 0 {
        broken.push("the first run exits 0 and opens no connection");
    }
    println!(
        "-> exit code {code}; the collector has {} record(s); {} connection(s) were opened.",
        stored(),
        relay.connections()
    );
    println!(
        "   The agent's config dir now holds: {}",
        list_dir(&config_home.join("agent"))
    );

    // A later run sends only if the notice marker existed before it
    // started; one started within the same few milliseconds counts as
    // started together with the first, and holds its records too.
    let marker = config_home.join("agent").join(NOTICE_MARKER_FILE);
    if try_wait_until_older_than_any_later_start(&marker).is_err() {
        broken.push("the first run leaves the notice marker");
    }

    heading("Run 2: the same command again sends its events");
    let before = stored();
    let code = agent_env.run(&run_args, &[])?;
    let records_sent = stored() - before;
    println!("-> exit code {code}; {records_sent} record(s) were stored when the agent exited.");
    if code != 0 || records_sent == 0 {
        broken.push("the second run exits 0 and its records are stored when it exits");
    }
    sessions_sent += 1;

    heading("Run 3: a command that fails");
    let before = stored();
    let code = agent_env.run(&["fail"], &[])?;
    if code != 1 {
        broken.push("`agent fail` exits with code 1");
    }
    println!(
        "-> exit code {code}; {} record(s) arrived.",
        stored() - before
    );

    heading("Run 4: opted out with TELEMETRY_ENABLED=false");
    let connections = relay.connections();
    let code = agent_env.run(&run_args, &[("TELEMETRY_ENABLED", "false")])?;
    let new_connections = relay.connections() - connections;
    println!("-> exit code {code}; new connections to the collector: {new_connections}.");
    if code != 0 || new_connections != 0 {
        broken.push("an opted-out run exits 0 and opens no connection");
    }

    heading("Runs 5 and 6: two more sessions, on other models");
    for model in ["claude-sonnet-4", "gpt-4o-mini"] {
        let code = agent_env.run(&["run", "--model", model, PROMPT], &[])?;
        if code != 0 {
            broken.push("every `agent run` exits 0");
        }
        sessions_sent += 1;
    }

    heading("Run 7: a collector 50 ms away, inline vs background delivery");
    let modes = delivery_modes(&agent, temp.path(), &run_args)?;
    if modes
        .iter()
        .any(|mode| mode.received != modes[0].received || mode.code != 0)
    {
        broken.push("both delivery modes have delivered every record when the agent exits");
    }

    let records = records_of(&store)?;
    heading("What the collector received");
    print!("{}", table(&records));
    let leaks = usize::from(contains(&relay.sent(), PROMPT.as_bytes()))
        + records
            .iter()
            .filter(|record| record.to_string().contains(PROMPT))
            .count();
    println!();
    println!(
        "{} record(s) stored, over {} connection(s). The prompt {PROMPT:?} appears in {leaks} of the requests.",
        records.len(),
        relay.connections()
    );
    println!(
        "Every record also carries: source, event_timestamp, user_uuid (random), version, os, \
         os_language, arch, ci, ci_provider, ai_agent, event_id."
    );
    println!("See one in full: add --debug to the agent's command line.");

    heading("The report");
    let db_shown = db.display().to_string();
    println!("$ telemetry-collector report --db {db_shown}");
    let colour = report::use_colour(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let request = report::Request {
        db: db.clone(),
        app: None,
        from: None,
        to: None,
        json: false,
    };
    print!(
        "{}",
        report::run(&request, day::today(), colour).map_err(|failure| failure.to_string())?
    );
    for problem in report_mismatches(&store, sessions_sent)? {
        eprintln!("demo: the report does not count the runs made: {problem}");
        broken.push("the report counts the runs that were made");
    }

    heading("Opting out");
    println!("Any program built on this toolkit reads (first match wins):");
    println!("  DO_NOT_TRACK=1                 off, for every app (also true, yes, on)");
    println!("  AGENT_TELEMETRY_ENABLED=false  off, for this app only (<APP>_TELEMETRY_ENABLED)");
    println!("  TELEMETRY_ENABLED=false        off, for every app (also 0, no, off);");
    println!("                                 any unrecognised value: off, with a warning");
    println!("  agent telemetry disable        off, remembered (`enable` undoes it)");
    println!(
        "  no endpoint                    off (this agent has none unless TELEMETRY_ENDPOINT is set)"
    );
    println!("TELEMETRY_ENABLED=log prints each record instead of sending it;");
    println!("`agent telemetry status` says which setting decided, and why.");
    println!("TELEMETRY_HIDE_BANNER=1 hides the first-run notice and keeps telemetry on.");
    println!("When off, nothing is written and no connection is opened.");

    if leaks != 0 {
        broken.push("no request body holds the prompt");
    }
    heading("The dashboard");
    println!("http://{}/", collector.address);
    let outcome = if broken.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "unexpected: these did not hold in this run:\n  - {}",
            broken.join("\n  - ")
        ))
    };
    if serve {
        println!("Open it in a browser. The collector stays up until Ctrl-C.");
        let _ = std::io::stdout().flush();
        signal::install();
        collector.wait();
    } else {
        println!(
            "(The collector stops with the demo: `cargo run --example demo -- --serve` keeps it up until Ctrl-C.)"
        );
        collector.stop();
    }
    outcome
}

/// Prints a blank line and `== title ==`.
fn heading(title: &str) {
    println!();
    println!("== {title} ==");
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The names in `dir`, or "nothing".
fn list_dir(dir: &Path) -> String {
    let names = entries(dir);
    if names.is_empty() {
        "nothing".to_owned()
    } else {
        names.join(", ")
    }
}
