//! `agent`: a small cagent-like command-line agent, instrumented with
//! `telemetry-core` through its public API only. Copy from it.
//!
//! ```text
//! cargo run --example agent -- [OPTIONS] version
//! cargo run --example agent -- [OPTIONS] run [--model NAME] [--steps N] PROMPT...
//! cargo run --example agent -- [OPTIONS] fail
//! (OPTIONS: --debug, --delivery inline|background|deferred,
//!  --upload-every SECONDS, --export otlp, --compress gzip|none,
//!  --sample-rate R, --max-records N)
//! cargo run --example agent -- telemetry status [--json] | show [--json] [--last N]
//!     | enable [--errors-only | --local-only] | disable | delete | reset-id
//! ```
//!
//! It calls no model and touches no file: the tools are stand-ins, so that
//! every run records the same events. What it shows:
//!
//! - one client, built once in `main` and made global with `set_global`, so
//!   that `#[tracked_command]` and `#[tracked_tool]` find it, and its flush
//!   guard held in `main` (background delivery flushes when it drops);
//! - `#[tracked_command]` on each command handler (`name = "run"` where the
//!   function's name is not the command's);
//! - a session for the agent `root`, current while the tools run, so that
//!   each `#[tracked_tool]` call and each token usage counts in its totals;
//! - an agent loop at scale: `run --steps N` makes N tool calls, and the
//!   client folds each tool's calls past the first 50 of a session into
//!   one `tool_summary` record (`.tool_rollup(50)`); `--sample-rate R`
//!   sends from a share R of processes only (`.sample_rate(R)`), and
//!   `--max-records N` caps the records one process sends
//!   (`.max_records(N)`, default 10,000; what is dropped is counted in a
//!   `client_report`);
//! - a tool that fails with an `std::io::Error` whose message holds the
//!   prompt, as real tool errors often do: the event carries the error's
//!   kind only (`NotFound`), never the message;
//! - any `--model` accepted, and recorded by name only when it is one the
//!   agent knows (`.known_models(..)`), else as `other`;
//! - `agent telemetry ...`, the user's controls, in a few lines
//!   ([`telemetry_command`]): it runs on the builder's `controls()`, so it
//!   records nothing.
//!
//! Telemetry is configured through the environment only
//! (`AGENT_TELEMETRY_ENDPOINT` or `TELEMETRY_ENDPOINT`,
//! `AGENT_TELEMETRY_ENABLED` or `TELEMETRY_ENABLED`, `DO_NOT_TRACK`,
//! `TELEMETRY_TAGS`, `TELEMETRY_HIDE_BANNER`, `XDG_CONFIG_HOME`/`HOME`), the
//! remembered choice (`agent telemetry disable`) and the global options
//! `--debug`, `--delivery`, `--upload-every`, `--export`, `--compress`,
//! `--sample-rate` and `--max-records`. The
//! example has no built-in endpoint, so with nothing set it sends nothing:
//! point `TELEMETRY_ENDPOINT` at `cargo run --example collector`. With
//! `--export otlp` the records go out as OTLP/HTTP JSON logs instead, and
//! `TELEMETRY_ENDPOINT` is an OpenTelemetry Collector's base URL
//! (`http://127.0.0.1:4318`; see docs/otlp.md).

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;
use telemetry_core::{
    tracked_command, tracked_tool, Compression, Controls, Deletion, Delivery, Export, Telemetry,
    TrackedError,
};

const USAGE: &str = "\
usage: agent [--debug] [--delivery inline|background|deferred] [--upload-every SECONDS]
             [--export otlp] [--compress gzip|none] [--sample-rate R] [--max-records N] <command>

commands:
  version                          print the version
  run [--model NAME] [--steps N] PROMPT...
                                   run the root agent on PROMPT
                                   (any model; gpt-4o, the default, gpt-4o-mini and
                                   claude-sonnet-4 are recorded by name, others as `other`);
                                   --steps N: make N tool calls (default 3), cycling
                                   plan_steps, read_file and search_web (which always
                                   fails with NotFound); past the first 50 calls of a
                                   tool, its calls are sent as one tool_summary record
  fail                             a command that always fails (exit code 1)
  telemetry status [--json]        say whether telemetry is on, and why
  telemetry enable | disable       turn telemetry on or off for this app (remembered)
  telemetry enable --errors-only   send only failed commands and tool calls (remembered)
  telemetry enable --local-only    keep records in the local history only, send nothing
  telemetry show [--json] [--last N]
                                   print what was sent, from the local history
  telemetry disable                also forgets the anonymous id, the spool and the history
  telemetry delete                 ask the collector to erase this id's records, then disable
  telemetry reset-id               forget the anonymous id

options:
  --debug    print each telemetry record (and why anything is not sent) on stderr
  --delivery inline|background|deferred
             inline (default): send each record when it is made;
             background: spool it and send batches from a thread, flushed at exit;
             deferred: append it to a local spool, uploaded at exit at most
             once per interval (default 3600 s)
  --upload-every SECONDS
             with --delivery deferred only: the least time between uploads
             (a whole number; 0 uploads on every run)
  --export otlp
             send OTLP/HTTP JSON logs; $TELEMETRY_ENDPOINT is then an OpenTelemetry
             Collector's base URL (http://127.0.0.1:4318)
  --compress gzip|none
             gzip request bodies (Content-Encoding: gzip), or not; the default is
             none for records and gzip for OTLP
  --sample-rate R
             a number from 0 to 1 (default 1): this process draws once, and sends
             all of its records with probability R, else none (no connection, no
             file); each record then carries \"sample_rate\": R
  --max-records N
             send at most N records from this process (default 10000); the rest
             are counted in one client_report record

telemetry: anonymous usage data goes to $TELEMETRY_ENDPOINT when it is set;
  turn it off with `agent telemetry disable`, AGENT_TELEMETRY_ENABLED=false
  or DO_NOT_TRACK=1; TELEMETRY_ENABLED=log prints what would be sent instead,
  AGENT_TELEMETRY_ENABLED=errors sends failures only. A machine policy
  (/etc/telemetry-policy, /etc/agent/telemetry-policy) can only restrict.";

/// The models the agent knows, with example prices in US dollars per
/// million input and output tokens. `run --model` takes any name (users
/// configure new models all the time), but only these names are recorded:
/// the client is built with `.known_models(..)`, so any other name, a typo
/// or text pasted into `--model`, is sent as `other`.
const MODELS: [Model; 3] = [
    Model {
        name: Cow::Borrowed("gpt-4o"),
        input_price: 2.50,
        output_price: 10.00,
    },
    Model {
        name: Cow::Borrowed("gpt-4o-mini"),
        input_price: 0.15,
        output_price: 0.60,
    },
    Model {
        name: Cow::Borrowed("claude-sonnet-4"),
        input_price: 3.00,
        output_price: 15.00,
    },
];

fn main() -> ExitCode {
    let cli = match Cli::parse(std::env::args_os().skip(1)) {
        Ok(cli) => cli,
        Err(Usage::Help) => {
            say(format_args!("{USAGE}"));
            return ExitCode::SUCCESS;
        }
        Err(Usage::Error(message)) => {
            warn(format_args!("agent: {message}\n\n{USAGE}"));
            return ExitCode::from(2);
        }
    };

    // The whole telemetry setup. Without an endpoint the client is off;
    // `TELEMETRY_ENDPOINT` supplies one (a real app would pass its
    // collector's URL to `.endpoint(..)`, which the variable overrides).
    let mut builder = Telemetry::builder("agent", env!("CARGO_PKG_VERSION"))
        .debug(cli.debug)
        .delivery(cli.delivery)
        .export(cli.export)
        // An agent loop makes hundreds of tool calls: past the first 50 of
        // each tool in a session, one summary per tool carries the rest.
        .tool_rollup(50)
        .sample_rate(cli.sample_rate)
        .max_records(cli.max_records)
        // The flags `Cli::parse` accepts: only these names are recorded, so
        // a prompt word shaped like a flag (`run hi --secret-plan`) is not.
        .flags([
            "--debug",
            "--delivery",
            "--upload-every",
            "--export",
            "--compress",
            "--model",
            "--errors-only",
            "--local-only",
            "--json",
            "--last",
            "--sample-rate",
            "--max-records",
            "--steps",
        ])
        // Model names outside this list are recorded as `other`.
        .known_models(MODELS.iter().map(|model| &*model.name));
    if let Some(compression) = cli.compression {
        builder = builder.compression(compression);
    }
    if let Command::Telemetry(action) = &cli.command {
        // The user's controls: no client is built, nothing is recorded.
        return telemetry_command(&builder.controls(), action);
    }
    let telemetry = builder.build();
    // Background delivery flushes (within 1 s) when this guard drops at the
    // end of `main`; what is left is sent by the next run.
    let _flush = telemetry.flush_guard();
    telemetry_core::set_global(telemetry);

    let result = match cli.command {
        Command::Version => {
            version();
            Ok(())
        }
        Command::Run {
            model,
            steps,
            prompt,
        } => {
            run_agent(&model, steps, &prompt);
            Ok(())
        }
        Command::Fail => fail(),
        Command::Telemetry(_) => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            warn(format_args!("agent: error: {error}"));
            ExitCode::from(1)
        }
    }
}

// ---------------------------------------------------------------------------
// Output

/// Writes a line to stdout. `println!` panics when stdout is closed or a
/// broken pipe (`agent version | head -c0`), and a tracked command would then
/// record that panic as its failure: an agent must not fail because nobody
/// reads its output, so a write error is ignored.
fn say(line: fmt::Arguments<'_>) {
    let _ = writeln!(io::stdout().lock(), "{line}");
}

/// Writes a line to stderr, ignoring a write error like [`say`] (`2>&-`, or
/// a reader that went away).
fn warn(line: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

// ---------------------------------------------------------------------------
// Commands

/// `agent version`.
#[tracked_command]
fn version() {
    say(format_args!("agent {}", env!("CARGO_PKG_VERSION")));
}

/// `agent run [--model NAME] [--steps N] PROMPT...`: one session of the
/// `root` agent, making `steps` tool calls.
#[tracked_command(name = "run")]
fn run_agent(model: &Model, steps: u64, prompt: &str) {
    let session = telemetry_core::start_session("root");
    let answer = session.scope(|| {
        let mut plan = Vec::new();
        let mut notes = Vec::new();
        let mut search_failures = 0_u64;
        for step in 0..steps {
            // The tools in turn: plan_steps, read_file, search_web, ...
            match step % 3 {
                0 => plan = plan_steps(prompt),
                1 => match read_workspace_file("README.md") {
                    Ok(text) => notes.push(text),
                    Err(error) => warn(format_args!("agent: tool read_file failed: {error}")),
                },
                _ => match search_web(prompt) {
                    Ok(results) => notes.extend(results),
                    // A real agent hands the tool's error back to the model;
                    // the error's message (which holds the prompt) stays on
                    // this machine. Said once, not once per step.
                    Err(error) => {
                        if search_failures == 0 {
                            warn(format_args!(
                                "agent: tool search_web failed: {error}; answering without it"
                            ));
                        }
                        search_failures += 1;
                    }
                },
            }
            if step == 0 {
                // First model call: decide which tools to use.
                model.call(1200, 150);
            }
        }

        // Second model call: write the answer.
        model.call(1800, 350);
        format!(
            "root ({}): done in {} steps, using {} note(s). (This example calls no model.)",
            model.name,
            plan.len(),
            notes.len()
        )
    });
    session.end();
    say(format_args!("{answer}"));
}

/// `agent fail`: a command that returns an error.
#[tracked_command]
fn fail() -> Result<(), CommandError> {
    Err(CommandError::AlwaysFails {
        detail: "this text stays on this machine".to_owned(),
    })
}

/// The errors of the agent's commands. `#[derive(TrackedError)]` makes the
/// variant's name (`AlwaysFails`) the `error` a failed `command` event
/// records; the fields and the message are never sent.
#[derive(Debug, TrackedError)]
enum CommandError {
    AlwaysFails { detail: String },
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::AlwaysFails { detail } => write!(
                f,
                "the `fail` command always fails ({detail}); it shows how a failed command \
                 is recorded (is_success false, error = the variant's name)"
            ),
        }
    }
}

impl std::error::Error for CommandError {}

/// `agent telemetry status [--json] | show [--json] [--last N] | enable [--errors-only | --local-only] | disable | delete | reset-id`.
fn telemetry_command(controls: &Controls, action: &TelemetryAction) -> ExitCode {
    let done = match action {
        TelemetryAction::Status { json } => {
            let status = controls.status();
            if *json {
                say(format_args!("{}", status.to_json()));
            } else {
                let _ = write!(io::stdout().lock(), "{status}");
            }
            Ok(())
        }
        TelemetryAction::Enable => controls.enable(),
        TelemetryAction::EnableErrorsOnly => controls.enable_errors_only(),
        TelemetryAction::EnableLocalOnly => controls.enable_local_only(),
        TelemetryAction::Show { json, last } => controls.show(*json, *last).map(|text| {
            let _ = io::stdout().lock().write_all(text.as_bytes());
        }),
        TelemetryAction::Disable => controls.disable().map(|()| {
            say(format_args!(
                "Telemetry disabled for this app: nothing more is sent; the anonymous id, \
                 anything unsent and the local history were deleted."
            ));
        }),
        TelemetryAction::Delete => controls.delete().map(|deletion| {
            say(format_args!(
                "{} Telemetry disabled: the anonymous id, anything unsent and the local history were deleted.",
                match deletion {
                    Deletion::Delivered => "Deletion requested: the collector was asked to erase every record with this id.",
                    Deletion::Pending => "The collector could not be reached: the deletion request is kept and sent by a later run.",
                    _ => "There was no anonymous id, so nothing to erase.",
                }
            ));
        }),
        TelemetryAction::ResetId => controls.reset_id(),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            warn(format_args!("agent: {error}"));
            ExitCode::from(1)
        }
    }
}

// ---------------------------------------------------------------------------
// Tools: stand-ins with the shapes of real ones. The macros never read a
// parameter, so the prompt passed to them is not recorded.

/// Splits the task into steps (a tool that cannot fail).
#[tracked_tool]
fn plan_steps(prompt: &str) -> Vec<String> {
    let words = prompt.split_whitespace().count();
    vec![
        "read the project's README".to_owned(),
        "search the web".to_owned(),
        format!("answer a {words}-word request"),
    ]
}

/// Reads a file of the workspace (a stand-in that always succeeds).
#[tracked_tool(name = "read_file")]
fn read_workspace_file(path: &str) -> io::Result<String> {
    Ok(format!("{path}: the telemetry toolkit"))
}

/// Searches the web. This stand-in always fails, and like many real tools
/// puts the query, that is the user's prompt, in its error message.
#[tracked_tool]
fn search_web(query: &str) -> io::Result<Vec<String>> {
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!("no results for {query:?}"),
    ))
}

/// A model the agent runs with, and its example prices (zero for a model
/// the agent does not know).
#[derive(Clone)]
struct Model {
    name: Cow<'static, str>,
    /// US dollars per million input tokens.
    input_price: f64,
    /// US dollars per million output tokens.
    output_price: f64,
}

impl Model {
    /// The model named `name`: a known one with its prices, else any name
    /// with no price.
    fn find(name: &str) -> Model {
        MODELS
            .iter()
            .find(|model| model.name == name)
            .cloned()
            .unwrap_or(Model {
                name: Cow::Owned(name.to_owned()),
                input_price: 0.0,
                output_price: 0.0,
            })
    }

    /// One call's cost in US dollars.
    fn cost(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        (input_tokens as f64 * self.input_price + output_tokens as f64 * self.output_price)
            / 1_000_000.0
    }

    /// A (pretend) call of this model with these token counts: recorded as
    /// token usage, with its cost.
    fn call(&self, input_tokens: u64, output_tokens: u64) {
        telemetry_core::record_token_usage(
            self.name.clone(),
            input_tokens,
            output_tokens,
            self.cost(input_tokens, output_tokens),
        );
    }
}

// ---------------------------------------------------------------------------
// Command line

enum Command {
    Version,
    Run {
        model: Model,
        steps: u64,
        prompt: String,
    },
    Fail,
    Telemetry(TelemetryAction),
}

enum TelemetryAction {
    Status { json: bool },
    Enable,
    EnableErrorsOnly,
    EnableLocalOnly,
    Show { json: bool, last: Option<usize> },
    Disable,
    Delete,
    ResetId,
}

struct Cli {
    debug: bool,
    delivery: Delivery,
    export: Export,
    /// `--compress`; `None`: the format's default.
    compression: Option<Compression>,
    sample_rate: f64,
    max_records: u64,
    command: Command,
}

enum Usage {
    Help,
    Error(String),
}

impl Cli {
    /// `[--debug] <command> [command options]`; `--debug` is also accepted
    /// among a command's options, and `--` ends the options of `run`.
    fn parse(args: impl Iterator<Item = std::ffi::OsString>) -> Result<Cli, Usage> {
        let mut args = args
            .map(|arg| {
                arg.into_string()
                    .map_err(|_| Usage::Error("an argument is not valid UTF-8".to_owned()))
            })
            .collect::<Result<Vec<String>, Usage>>()?
            .into_iter();
        let mut debug = false;
        let mut delivery = Delivery::Inline;
        let mut upload_every = None;
        let mut export = Export::Records;
        let mut compression = None;
        let mut sample_rate = 1.0;
        let mut max_records = telemetry_core::DEFAULT_MAX_RECORDS;
        let name = loop {
            match args.next().as_deref() {
                Some("--debug") => debug = true,
                Some("--delivery") => delivery = parse_delivery(args.next().as_deref())?,
                Some(flag) if flag.starts_with("--delivery=") => {
                    delivery = parse_delivery(flag.strip_prefix("--delivery="))?;
                }
                Some("--upload-every") => {
                    upload_every = Some(parse_upload_every(args.next().as_deref())?);
                }
                Some(flag) if flag.starts_with("--upload-every=") => {
                    upload_every = Some(parse_upload_every(flag.strip_prefix("--upload-every="))?);
                }
                Some("--export") => {
                    export = match args.next().as_deref() {
                        Some("otlp") => Export::Otlp,
                        Some("records") => Export::Records,
                        _ => return Err(Usage::Error("--export takes otlp or records".to_owned())),
                    }
                }
                Some("--compress") => {
                    compression = Some(match args.next().as_deref() {
                        Some("gzip") => Compression::Gzip,
                        Some("none") => Compression::None,
                        _ => return Err(Usage::Error("--compress takes gzip or none".to_owned())),
                    });
                }
                Some("--sample-rate") => sample_rate = parse_sample_rate(args.next().as_deref())?,
                Some("--max-records") => {
                    max_records = parse_count("--max-records", args.next().as_deref())?;
                }
                Some("-h" | "--help" | "help") => return Err(Usage::Help),
                Some(flag) if flag.starts_with('-') => {
                    return Err(Usage::Error(format!("unknown option {flag}")))
                }
                Some(name) => break name.to_owned(),
                None => return Err(Usage::Error("no command given".to_owned())),
            }
        };
        if let Some(seconds) = upload_every {
            if !matches!(delivery, Delivery::Deferred { .. }) {
                return Err(Usage::Error(
                    "--upload-every needs --delivery deferred".to_owned(),
                ));
            }
            delivery = Delivery::Deferred {
                upload_every: std::time::Duration::from_secs(seconds),
            };
        }
        let command = match name.as_str() {
            "version" | "fail" => {
                for arg in args {
                    match arg.as_str() {
                        "--debug" => debug = true,
                        _ => return Err(Usage::Error(format!("`{name}` takes no arguments"))),
                    }
                }
                if name == "version" {
                    Command::Version
                } else {
                    Command::Fail
                }
            }
            "run" => {
                let mut model = MODELS[0].clone();
                let mut steps = 3;
                let mut prompt = Vec::new();
                while let Some(arg) = args.next() {
                    if !prompt.is_empty() {
                        prompt.push(arg);
                        continue;
                    }
                    match arg.as_str() {
                        "--debug" => debug = true,
                        "--model" => match args.next() {
                            Some(value) => model = Model::find(&value),
                            _ => return Err(Usage::Error("--model needs a model name".to_owned())),
                        },
                        "--steps" => steps = parse_count("--steps", args.next().as_deref())?,
                        "--" => {
                            prompt.extend(args.by_ref());
                            break;
                        }
                        _ if arg.starts_with("--steps=") => {
                            steps = parse_count("--steps", arg.strip_prefix("--steps="))?;
                        }
                        _ => match arg.strip_prefix("--model=") {
                            Some(value) => model = Model::find(value),
                            None if arg.starts_with("--") => {
                                return Err(Usage::Error(format!("unknown option {arg}")))
                            }
                            None => prompt.push(arg),
                        },
                    }
                }
                let prompt = prompt.join(" ");
                if prompt.trim().is_empty() {
                    return Err(Usage::Error("`run` needs a prompt".to_owned()));
                }
                Command::Run {
                    model,
                    steps,
                    prompt,
                }
            }
            "telemetry" => {
                let words: Vec<String> = args.filter(|arg| arg != "--debug").collect();
                let words: Vec<&str> = words.iter().map(String::as_str).collect();
                Command::Telemetry(match words.as_slice() {
                    ["status"] => TelemetryAction::Status { json: false },
                    ["status", "--json"] => TelemetryAction::Status { json: true },
                    ["enable"] => TelemetryAction::Enable,
                    ["enable", "--errors-only"] => TelemetryAction::EnableErrorsOnly,
                    ["enable", "--local-only"] => TelemetryAction::EnableLocalOnly,
                    ["show", options @ ..] => parse_show(options)?,
                    ["disable"] => TelemetryAction::Disable,
                    ["delete"] => TelemetryAction::Delete,
                    ["reset-id"] => TelemetryAction::ResetId,
                    _ => {
                        return Err(Usage::Error(
                            "usage: agent telemetry status [--json] | show [--json] [--last N] | enable [--errors-only | --local-only] | disable | delete | reset-id"
                                .to_owned(),
                        ))
                    }
                })
            }
            other => return Err(Usage::Error(format!("unknown command `{other}`"))),
        };
        Ok(Cli {
            debug,
            delivery,
            export,
            compression,
            sample_rate,
            max_records,
            command,
        })
    }
}

/// The options of `telemetry show`: `--json`, `--last N`, in any order.
fn parse_show(options: &[&str]) -> Result<TelemetryAction, Usage> {
    let (mut json, mut last) = (false, None);
    let mut options = options.iter();
    while let Some(option) = options.next() {
        match *option {
            "--json" => json = true,
            "--last" => match options.next().and_then(|n| n.parse::<usize>().ok()) {
                Some(n) => last = Some(n),
                None => return Err(Usage::Error("--last needs a number".to_owned())),
            },
            other => return Err(Usage::Error(format!("unknown option {other}"))),
        }
    }
    Ok(TelemetryAction::Show { json, last })
}

/// The value of `--delivery`.
fn parse_delivery(value: Option<&str>) -> Result<Delivery, Usage> {
    match value {
        Some("inline") => Ok(Delivery::Inline),
        Some("background") => Ok(Delivery::Background),
        Some("deferred") => Ok(Delivery::deferred()),
        _ => Err(Usage::Error(
            "--delivery needs `inline`, `background` or `deferred`".to_owned(),
        )),
    }
}

/// The value of `--upload-every`: a whole number of seconds.
fn parse_upload_every(value: Option<&str>) -> Result<u64, Usage> {
    value
        .and_then(|value| value.parse::<u64>().ok())
        .ok_or_else(|| Usage::Error("--upload-every needs a whole number of seconds".to_owned()))
}

/// The value of `--sample-rate`: a number from 0 to 1. Checked here, as
/// input from a user must be: the builder treats a bad rate as the app's
/// own mistake.
fn parse_sample_rate(value: Option<&str>) -> Result<f64, Usage> {
    value
        .and_then(|value| value.trim().parse::<f64>().ok())
        .filter(|rate| (0.0..=1.0).contains(rate))
        .ok_or_else(|| Usage::Error("--sample-rate needs a number from 0 to 1".to_owned()))
}

/// The value of `--steps` or `--max-records`: a whole number.
fn parse_count(flag: &str, value: Option<&str>) -> Result<u64, Usage> {
    value
        .and_then(|value| value.trim().parse::<u64>().ok())
        .ok_or_else(|| Usage::Error(format!("{flag} needs a whole number")))
}
