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

use serde_json::Value;
use std::fmt::Write as _;
use std::io::{IsTerminal as _, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use telemetry_collector::views::{self, Query, View};
use telemetry_collector::{day, report, signal, Store};
use telemetry_core::NOTICE_MARKER_FILE;
use telemetry_test_support::agent::{self, Features};
use telemetry_test_support::fs::entries;
use telemetry_test_support::marker::try_wait_until_older_than_any_later_start;
use telemetry_test_support::TempDir;

/// The prompt the demo gives the agent: it must never reach the collector.
const PROMPT: &str = "Summarise my private notes on Project Falcon";

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
fn cleared_for_the_agent() -> Vec<String> {
    let mut names: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| is_cleared_for_the_agent(name))
        .collect();
    names.sort();
    names
}

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

/// How many records of the agent the collector holds.
fn stored_records(store: &Store) -> u64 {
    let apps = views::answer(store, View::Apps, &Query::last_30_days(day::today()));
    apps.ok()
        .and_then(|apps| {
            apps["apps"]
                .as_array()?
                .iter()
                .find(|app| app["app"] == "agent")
                .and_then(|app| app["records"].as_u64())
        })
        .unwrap_or(0)
}

/// The stored records, as `telemetry-collector export` prints them.
fn records_of(store: &Store) -> Result<Vec<Value>, String> {
    let mut query = Query::last_30_days(day::today());
    query.app = Some("agent".to_owned());
    let answer = views::answer(store, View::Records, &query).map_err(|error| error.to_string())?;
    Ok(answer["records"].as_array().cloned().unwrap_or_default())
}

/// What the views say that the runs made do not: `sessions` `run`
/// commands (each with three tools, `search_web` failing with `NotFound`,
/// and two model calls) and one failed `fail`.
fn report_mismatches(store: &Store, sessions: u64) -> Result<Vec<String>, String> {
    let mut query = Query::last_30_days(day::today());
    query.app = Some("agent".to_owned());
    let view = |view: View| views::answer(store, view, &query).map_err(|error| error.to_string());
    let (commands, tools, tokens, session_view) = (
        view(View::Commands)?,
        view(View::Tools)?,
        view(View::Tokens)?,
        view(View::Sessions)?,
    );
    let find = |answer: &Value, list: &str, name: &str, field: &str| -> u64 {
        answer[list]
            .as_array()
            .and_then(|rows| rows.iter().find(|row| row["name"] == name))
            .and_then(|row| row[field].as_u64())
            .unwrap_or(0)
    };
    let mut problems = Vec::new();
    let mut expect = |what: String, seen: u64, wanted: u64| {
        if seen != wanted {
            problems.push(format!("{what}: {seen}, expected {wanted}"));
        }
    };
    expect(
        "run calls".into(),
        find(&commands, "commands", "run", "calls"),
        sessions,
    );
    expect(
        "fail calls".into(),
        find(&commands, "commands", "fail", "calls"),
        1,
    );
    expect(
        "fail failures".into(),
        find(&commands, "commands", "fail", "failures"),
        1,
    );
    for tool in ["plan_steps", "read_file", "search_web"] {
        expect(
            format!("{tool} calls"),
            find(&tools, "tools", tool, "calls"),
            sessions,
        );
    }
    expect(
        "search_web failures".into(),
        find(&tools, "tools", "search_web", "failures"),
        sessions,
    );
    let model_calls: u64 = tokens["models"]
        .as_array()
        .map(|models| {
            models
                .iter()
                .filter_map(|model| model["calls"].as_u64())
                .sum()
        })
        .unwrap_or(0);
    expect("model calls".into(), model_calls, 2 * sessions);
    expect(
        "sessions".into(),
        session_view["sessions"]["count"].as_u64().unwrap_or(0),
        sessions,
    );
    Ok(problems)
}

/// One `agent --delivery <mode>` run against the 50 ms collector.
struct ModeRun {
    code: i32,
    received: usize,
}

/// Runs the agent once per delivery mode against a collector that waits
/// 50 ms before each answer (telemetry on, no notice run: the banner is
/// hidden), and prints wall time and records received at exit.
fn delivery_modes(agent: &Path, temp: &Path, run_args: &[&str]) -> Result<Vec<ModeRun>, String> {
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

/// Where and how the agent runs.
struct AgentEnv<'a> {
    binary: &'a Path,
    endpoint: String,
    config_home: &'a Path,
    home: &'a Path,
}

impl AgentEnv<'_> {
    /// Runs the agent with the terminal's stdout and stderr, as a user would
    /// see it; returns its exit code.
    fn run(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Result<i32, String> {
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

/// The received records as a table.
fn table(records: &[Value]) -> String {
    let header = [
        "#", "event", "name", "success", "duration", "tokens", "cost",
    ];
    let rows: Vec<[String; 7]> = records
        .iter()
        .enumerate()
        .map(|(index, record)| row(index + 1, record))
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut text = String::new();
        for (cell, width) in cells.iter().zip(widths) {
            let _ = write!(text, "{cell:<width$}  ");
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&header.map(str::to_owned));
    line(&widths.map(|width| "-".repeat(width)));
    for row in &rows {
        line(row);
    }
    out
}

fn row(number: usize, record: &Value) -> [String; 7] {
    let props = record.get("properties").unwrap_or(&Value::Null);
    let text = |key: &str| props.get(key).and_then(Value::as_str).unwrap_or("");
    let number_of = |key: &str| props.get(key).and_then(Value::as_u64);
    let event = record.get("event").and_then(Value::as_str).unwrap_or("?");
    let action = text("action");
    let name = match event {
        "command" => action.to_owned(),
        "tool" => text("tool_name").to_owned(),
        "token" => text("model_name").to_owned(),
        "session" => format!("{} ({action})", text("agent_name")),
        _ => String::new(),
    };
    let success = match props.get("is_success").and_then(Value::as_bool) {
        None => "-".to_owned(),
        Some(true) => "yes".to_owned(),
        Some(false) => match props.get("error") {
            Some(Value::String(kind)) => format!("no: {kind}"),
            Some(Value::Array(kinds)) => {
                let kinds: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
                format!("no: {}", kinds.join(", "))
            }
            _ => "no".to_owned(),
        },
    };
    let duration = number_of("duration_ms").map_or("-".to_owned(), |ms| format!("{ms} ms"));
    let tokens = match (number_of("input_tokens"), number_of("output_tokens")) {
        (Some(input), Some(output)) => format!("{input} in + {output} out"),
        _ => "-".to_owned(),
    };
    let cost = props
        .get("cost")
        .and_then(Value::as_f64)
        .map_or("-".to_owned(), |cost| format!("${cost:.4}"));
    let name = match (event, number_of("tool_calls")) {
        ("session", Some(calls)) => format!("{name}, {calls} tool calls"),
        _ => name,
    };
    [
        number.to_string(),
        event.to_owned(),
        name,
        success,
        duration,
        tokens,
        cost,
    ]
}

fn heading(title: &str) {
    println!();
    println!("== {title} ==");
}

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

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn list_dir(dir: &Path) -> String {
    let names = entries(dir);
    if names.is_empty() {
        "nothing".to_owned()
    } else {
        names.join(", ")
    }
}

// ---------------------------------------------------------------------------
// The collector and the relay in front of it

/// `telemetry-collector serve` on 127.0.0.1 (a free port), run on a thread
/// of this process.
struct InProcessCollector {
    address: SocketAddr,
    thread: JoinHandle<Result<(), String>>,
}

impl InProcessCollector {
    fn start(db: &Path) -> Result<InProcessCollector, String> {
        let db = db.to_str().ok_or("the database's path is not UTF-8")?;
        let settings = telemetry_collector::Settings::from_flags(&[
            ("--db", db),
            ("--listen", "127.0.0.1:0"),
        ])?;
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            telemetry_collector::serve(&settings, &signal::STOP, |address| {
                let _ = sender.send(address);
            })
        });
        match receiver.recv() {
            Ok(address) => Ok(InProcessCollector { address, thread }),
            // The thread ended before it listened: its error says why.
            Err(_) => Err(match thread.join() {
                Ok(Err(error)) => format!("cannot start telemetry-collector: {error}"),
                _ => "cannot start telemetry-collector".to_owned(),
            }),
        }
    }

    /// Stops it: no request is in flight once the demo's runs are over.
    fn stop(self) {
        signal::STOP.store(true, Ordering::SeqCst);
        self.wait();
    }

    /// Waits until it stops (SIGINT or SIGTERM set the flag it polls).
    fn wait(self) {
        if let Ok(Err(error)) = self.thread.join() {
            eprintln!("demo: telemetry-collector: {error}");
        }
    }
}

/// A loopback relay in front of the collector: it counts the connections
/// made to it and keeps a copy of every byte sent through it.
struct Relay {
    address: SocketAddr,
    connections: Arc<AtomicUsize>,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Relay {
    fn start(target: SocketAddr) -> std::io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let relay = Relay {
            address: listener.local_addr()?,
            connections: Arc::default(),
            sent: Arc::default(),
        };
        let (connections, sent) = (Arc::clone(&relay.connections), Arc::clone(&relay.sent));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                connections.fetch_add(1, Ordering::SeqCst);
                let sent = Arc::clone(&sent);
                std::thread::spawn(move || {
                    let _ = pipe(client, target, &sent);
                });
            }
        });
        Ok(relay)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn sent(&self) -> Vec<u8> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Copies the client's bytes to the collector (keeping a copy) and the
/// answers back, until either side closes.
fn pipe(client: TcpStream, target: SocketAddr, sent: &Mutex<Vec<u8>>) -> std::io::Result<()> {
    let server = TcpStream::connect(target)?;
    let (mut from_server, mut to_client) = (server.try_clone()?, client.try_clone()?);
    let answers = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_server, &mut to_client);
        let _ = to_client.shutdown(Shutdown::Write);
    });
    let (mut from_client, mut to_server) = (client, server);
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let read = from_client.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        sent.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(&buffer[..read]);
        to_server.write_all(&buffer[..read])?;
    }
    let _ = to_server.shutdown(Shutdown::Write);
    let _ = answers.join();
    Ok(())
}

// ---------------------------------------------------------------------------
// Finding the agent

/// The `agent` example's binary, built first when the demo runs under cargo.
fn find_agent() -> Result<PathBuf, String> {
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
