//! Anonymous, opt-out usage telemetry for Rust command-line programs and
//! AI-agent runtimes.
//!
//! Annotate command handlers with `#[tracked_command]` and tool functions
//! with `#[tracked_tool]`; each call is timed, its success or failure
//! captured, and a typed event handed to the recorder, which sends it inline
//! (the call returns once the collector answered or the attempt failed; or,
//! opted in, spools it and sends batches in the background, or defers it to
//! a shared local spool uploaded at most once per interval) and honours the
//! opt-out (`TELEMETRY_ENABLED=false`, `DO_NOT_TRACK=1`, the app's own
//! `<APP>_TELEMETRY_ENABLED`, or `<app> telemetry disable`). The
//! wire format is that of Docker's `cagent`.
//!
//! How much is sent is a [`Level`] (`off < local < errors < all`; `errors`
//! sends failed commands and tool calls only): every source can only lower
//! it, and a machine policy file ([`POLICY_FILE`] under `/etc` and
//! `/etc/<app>`) restricts over every variable and choice. In CI the app's
//! [`CiPolicy`] applies (by default: no notice, no files, a per-process id
//! marked `ephemeral_id`). A raised
//! [`notice_version`](TelemetryBuilder::notice_version) shows the notice
//! once more. `docs/policy.md` in the repository has the whole precedence
//! table.
//!
//! # The recording flow
//!
//! ```
//! use std::time::Duration;
//! use telemetry_core::{MemorySink, Outcome, Telemetry};
//!
//! // In a real program:
//! // Telemetry::builder("my-agent", "1.2.0").endpoint("https://collector.example/v1/events")
//! // Here, an isolated client (no notice, no environment, no files) records
//! // into memory.
//! let sink = MemorySink::new();
//! let telemetry = Telemetry::isolated("my-agent", "1.2.0")
//!     .sink(sink.clone())
//!     .build();
//!
//! // A command ran; only names of declared flags are kept (none here).
//! telemetry.track_command("run", ["--model=gpt-4", "my secret prompt"]);
//!
//! // A session, its tool calls and token usage.
//! let session = telemetry.start_session("root");
//! session.scope(|| {
//!     telemetry.record_tool_call("read_file", session.id(), "root",
//!         Duration::from_millis(12), Outcome::Success);
//!     telemetry.record_token_usage("gpt-4o", 1200, 300, 0.0125);
//! });
//! session.end();
//!
//! let kinds: Vec<&str> = sink.records().iter().map(|r| r.event().kind()).collect();
//! assert_eq!(kinds, ["command", "session", "tool", "token", "session"]);
//! let end = serde_json::to_value(&sink.records()[4]).unwrap();
//! assert_eq!(end["properties"]["tool_calls"], 1);
//! assert_eq!(end["properties"]["total_tokens"], 1500);
//! ```
//!
//! # Tracking functions: `#[tracked_command]` and `#[tracked_tool]`
//!
//! Put `#[tracked_command]` on command handlers and `#[tracked_tool]` on
//! tool functions (sync or `async`, free fns or methods); each call is then
//! recorded on the [`current`] client, a tool in the current session.
//!
//! ```
//! use telemetry_core::{tracked_command, tracked_tool, MemorySink, Telemetry};
//!
//! #[tracked_command(name = "run")]
//! fn run_prompt(prompt: &str) -> std::io::Result<usize> {
//!     read_file(prompt)
//! }
//!
//! #[tracked_tool]
//! fn read_file(path: &str) -> std::io::Result<usize> {
//!     Err(std::io::Error::other(format!("{path}: not found")))
//! }
//!
//! let sink = MemorySink::new();
//! let telemetry = Telemetry::isolated("my-agent", "1.2.0").sink(sink.clone()).build();
//! let session = telemetry.start_session("root");
//! let result = session.scope(|| run_prompt("secret-plans.txt"));
//! session.end();
//! assert!(result.is_err()); // returned unchanged
//!
//! let records: Vec<serde_json::Value> =
//!     sink.records().iter().map(|r| serde_json::to_value(r).unwrap()).collect();
//! let kinds: Vec<_> = records.iter().map(|r| r["event"].as_str().unwrap()).collect();
//! assert_eq!(kinds, ["session", "tool", "command", "session"]);
//! let tool = &records[1]["properties"];
//! assert_eq!(tool["tool_name"], "read_file");
//! assert_eq!(tool["error"], "Other"); // the io::ErrorKind, not the message
//! assert_eq!(tool["session_id"], records[0]["properties"]["session_id"]);
//! assert_eq!(records[2]["properties"]["action"], "run");
//! assert_eq!(records[3]["properties"]["tool_calls"], 1);
//! assert!(!serde_json::to_string(&records).unwrap().contains("secret"));
//! ```
//!
//! An `async fn` is timed from its first poll to its completion; carry the
//! session into the future with [`WithTelemetry::with_session`]:
//!
//! ```
//! use telemetry_core::{tracked_tool, MemorySink, Telemetry, WithTelemetry};
//!
//! #[tracked_tool(name = "web.search")]
//! async fn search(query: &str) -> Result<Vec<String>, std::fmt::Error> {
//!     Ok(vec![format!("{} results", query.len())])
//! }
//!
//! let sink = MemorySink::new();
//! let telemetry = Telemetry::isolated("my-agent", "1.2.0").sink(sink.clone()).build();
//! let session = telemetry.start_session("researcher");
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! let found = runtime.block_on(search("rust").with_session(&session)).unwrap();
//! assert_eq!(found, ["4 results"]);
//! let tool = serde_json::to_value(&sink.records()[1]).unwrap();
//! assert_eq!(tool["properties"]["tool_name"], "web.search");
//! assert_eq!(tool["properties"]["agent_name"], "researcher");
//! ```
//!
//! | The expansion records | It never records |
//! |---|---|
//! | the name: the function's, or `name = "..."` | argument values: it never reads a parameter |
//! | the duration, on a monotonic clock | the return value |
//! | success; or failure for an `Err` of any `Result` (aliases included), kind = the error's [`TrackedError`] kind (see [`error_kind`]), else the error *type's* name | the error's message (`Display`, `Debug`) |
//! | `panic` when the body panics (the panic then continues unchanged) | the panic's message or payload |
//! | `cancelled` when an async call is dropped before it completes | |
//! | commands: the declared flag names of the process's command line | flag values, positionals, undeclared dash-words |
//! | tools: the current session's id and agent, counted in its totals | |
//!
//! While no client in the process is enabled, a tracked call costs one
//! relaxed atomic load: no clock read, no allocation. The outcome follows
//! the declared return type, so a generic `T` is a success even when it is a
//! `Result`. A future dropped before its first poll never ran, and records
//! nothing; a `-> !` function records only a panic; a function that returns
//! `impl Future` without being `async fn` is timed until the future is built.
//! Not supported (a compile error): `const fn`, `#[track_caller]`.
//!
//! # Flags: only those the app declares
//!
//! A command's `args` hold the names of flags the app declared, and nothing
//! else. Declare them on the builder with their dashes, as typed on a
//! command line ([`TelemetryBuilder::flags`]), or, with the `clap` feature,
//! take them from the app's `clap::Command` (`TelemetryBuilder::clap_flags`:
//! long and short names, aliases, clap's `--help` and `--version`, and every
//! subcommand's, recursively). The arguments, those given to
//! [`Telemetry::track_command`] or, for `#[tracked_command]`, the process's
//! command line, are then filtered:
//!
//! - `--model=gpt-4` is sent as `--model`, and `-pHunter2` as `-p`, only
//!   when `--model` and `-p` are declared;
//! - any other dash-word (`--project-falcon-acquires-acme`), every value
//!   and positional, and every word after `--` are dropped;
//! - with nothing declared, `args` is `[]`: safe by default.
//!
//! A filter that sees only strings cannot tell where a prompt begins
//! (`agent run "summarise my notes" --project-falcon-acquires-acme`); the
//! app knows which flags exist. One thing it still cannot tell: a prompt
//! word spelled exactly like a declared flag (`agent run explain --debug`)
//! is sent as that flag name. When that matters, pass
//! [`Telemetry::track_command`] only the flags your parser consumed.
//!
//! ```
//! use telemetry_core::{MemorySink, Telemetry};
//!
//! let sink = MemorySink::new();
//! let telemetry = Telemetry::isolated("my-agent", "1.2.0")
//!     .sink(sink.clone())
//!     .flags(["--debug", "--model", "-p"])
//!     .build();
//! telemetry.track_command(
//!     "run",
//!     ["--debug", "--model=gpt-4", "-pHunter2", "summarise", "--project-falcon", "--", "--debug"],
//! );
//! let record = serde_json::to_value(&sink.records()[0]).unwrap();
//! assert_eq!(record["properties"]["args"], serde_json::json!(["--debug", "--model", "-p"]));
//! ```
//!
//! With the `clap` feature (`telemetry-core = { version = "0.1", features = ["clap"] }`):
//!
#![cfg_attr(feature = "clap", doc = "```")]
#![cfg_attr(not(feature = "clap"), doc = "```ignore")]
//! use clap::{Arg, ArgAction, Command};
//! use telemetry_core::{MemorySink, Telemetry};
//!
//! let cli = Command::new("my-agent")
//!     .version("1.2.0")
//!     .arg(Arg::new("debug").long("debug").global(true).action(ArgAction::SetTrue))
//!     .subcommand(
//!         Command::new("run")
//!             .arg(Arg::new("model").long("model").short('m').alias("llm"))
//!             .arg(Arg::new("prompt").num_args(1..).trailing_var_arg(true)),
//!     );
//! let sink = MemorySink::new();
//! let telemetry = Telemetry::isolated("my-agent", "1.2.0")
//!     .sink(sink.clone())
//!     .clap_flags(&cli)
//!     .build();
//! let argv = ["--debug", "run", "-mgpt-4", "--llm=x", "explain", "--force-with-lease"];
//! telemetry.track_command("run", argv);
//! let record = serde_json::to_value(&sink.records()[0]).unwrap();
//! assert_eq!(record["properties"]["args"], serde_json::json!(["--debug", "-m", "--llm"]));
//! ```
//!
//! **Migration.** Before: `args` held every `--word` and `-x` of the
//! command line. Now: only declared names. Without a `flags` list or
//! `clap_flags`, `args` is always `[]`; declare the flags you want counted.
//!
//! # Testing your own code
//!
//! [`Telemetry::isolated`] makes a client that reads no environment
//! variable, shows no notice and touches no file; give it a [`MemorySink`]
//! and assert on [`MemorySink::records`]. Without an `http` feature
//! (`default-features = false`), the crate builds without its HTTP stack:
//! a client then needs a sink, and an endpoint alone turns it off
//! ([`OffReason::NoHttpSupport`]).
//!
//! # The user's controls: `telemetry status | show | enable | disable | delete | reset-id`
//!
//! Give your app a `telemetry` subcommand that runs on
//! [`TelemetryBuilder::controls`] (not a built client, so it records
//! nothing): [`Controls::status`] says whether telemetry is on, which
//! setting decided and what to change, as text or JSON ([`Status`]);
//! [`Controls::show`] prints the local history of what was sent;
//! [`Controls::enable`] (or [`Controls::enable_errors_only`],
//! [`Controls::enable_local_only`]), [`Controls::disable`] (which also
//! deletes the anonymous id, anything spooled and the local history),
//! [`Controls::delete`] (which asks the collector to erase this id's
//! records, then disables) and [`Controls::reset_id`] change it. With the
//! `clap` feature,
//! `subcommand::command()` and `subcommand::run(..)` are the whole thing.
//! The variables (table on [`TelemetryBuilder`]) win over the remembered
//! choice: `DO_NOT_TRACK`, then `<APP>_TELEMETRY_ENABLED`, then
//! `TELEMETRY_ENABLED`, then the choice, then the default (on), and with
//! nothing to send to, off. `log` prints each record instead of sending it.
//!
//! The status is the run's own decision, made by the same function: a
//! setting or a file that cannot be used turns telemetry off, and the
//! status names it (its [`Rule`] in `decided_by`) with the fix:
//!
//! - the app name, the endpoint (not an `http`/`https` URL with a host and
//!   without credentials) or another setting the HTTP sink needs;
//! - a config dir, id file or notice marker that is a symbolic link,
//!   another user's, or writable by others (for a `0777` dir, the
//!   `chmod 700` that repairs it);
//! - a remembered choice that cannot be trusted (a link, another user's,
//!   writable by others, not a regular file, unreadable, empty or unknown
//!   content): off whatever the variables say, since it may be an opt-out
//!   (a byte-order mark, spaces and capitals around `enabled` or `disabled`
//!   are fine);
//! - with the first-run notice on, no usable config dir to remember it in
//!   (none set, it cannot be created, not writable, or root acting for
//!   another user): no notice is shown that cannot be remembered, so the
//!   run is off. With the notice off, such a run sends with an id for this
//!   process only. A notice marker dated in the future counts as seen.
//!
//! # Delivery modes
//!
//! [`Delivery`] chooses how records leave, on the builder:
//!
//! - [`Delivery::Inline`] (the default): each record is sent when it is
//!   recorded; nothing is written to disk, nothing is in flight at exit.
//! - [`Delivery::Background`]: appended to this process's spool file and
//!   sent in batches by a thread; the flush points (the end of the
//!   outermost tracked command, [`Telemetry::flush`], the [`FlushGuard`])
//!   wait at most the exit budget; a later run sends what is left.
//! - [`Delivery::Deferred`] ([`Delivery::deferred`]: an hour): appended to
//!   one spool file shared by every process of the app; at the same flush
//!   points a process uploads the spool only when an upload is due (none
//!   yet, or the last attempt at least `upload_every` ago), one process at
//!   a time. A run inside the interval costs a file append and opens no
//!   connection. In CI it behaves as inline.
//!
//! Spooled records survive a killed or crashed process. Appends are never
//! followed by `fsync`, so a power cut may lose the last records appended.
//! Opting out deletes every spool unsent. See `docs/delivery.md` in the
//! repository.
//!
//! # Where data and the key go
//!
//! - Records go to the endpoint given in code, or to the one
//!   `<APP>_TELEMETRY_ENDPOINT` or `TELEMETRY_ENDPOINT` sets instead. The API key goes only to the
//!   endpoint given in code: an endpoint from the environment gets the
//!   records without the key, unless the app calls
//!   [`TelemetryBuilder::api_key_for_endpoint_override`]`(true)`.
//! - The key is sent over `https`, or to this machine (loopback), only. To
//!   a plain `http` endpoint on another host the records still go, without
//!   the key (a collector that requires one answers 401, logged as "not
//!   accepted"); debug mode says once that the key was withheld, and why.
//! - An endpoint URL with a user name or password (`https://user:pass@host/`)
//!   is refused: telemetry is off for the run
//!   ([`OffReason::InvalidSetting`], "the endpoint has a user name or
//!   password in it"). It would otherwise be sent as an `Authorization:
//!   Basic` header, in clear text over `http`.
//! - Proxies come from the client's environment (the builder's
//!   [`env`](TelemetryBuilder::env) lookup; the process environment by
//!   default), read once when the client is built. For an `https`
//!   endpoint: `HTTPS_PROXY`, `https_proxy`, `ALL_PROXY`, `all_proxy`; for
//!   `http`: `HTTP_PROXY`, `http_proxy`, `ALL_PROXY`, `all_proxy` (the
//!   first set and not blank wins; `HTTP_PROXY` is ignored when
//!   `REQUEST_METHOD` is set, as in a CGI program). The value is
//!   `host:port` or an `http://`/`https://` URL. An `https` endpoint is
//!   tunnelled (`CONNECT`): the proxy sees the host name, never the key or
//!   the records. A proxy of another kind (`socks5://`) turns telemetry off
//!   for the run rather than going around it.
//! - `NO_PROXY`, then `no_proxy`: comma-separated; `*` means no proxy for
//!   any host, IP literals included; `example.com`, `.example.com` and
//!   `*.example.com` match that domain and its subdomains; an IP address or
//!   CIDR block (`10.0.0.0/8`, `fd00::/8`) matches IP-literal endpoints in
//!   it. Ports in entries are not supported.
//! - A loopback endpoint is always reached directly: `localhost` and
//!   `localhost.` in any case, `127.0.0.0/8`, `[::1]`, and IPv4-mapped
//!   loopback (`[::ffff:127.0.0.1]`).
//! - Each failure is named by its cause in the debug log, without the URL
//!   or host: timed out, DNS, refused, TLS certificate not accepted, TLS
//!   handshake failed, connection reset. Redirects are not followed.
//!
//! # Agent loops at scale: roll-ups, sampling, a cap, and what was dropped
//!
//! An agent makes hundreds of tool calls a session; four levers keep the
//! volume in check while the totals stay exact:
//!
//! - [`TelemetryBuilder::tool_rollup`]`(after)` (off unless set): within a
//!   session, the first `after` calls of each tool name are sent as `tool`
//!   records, later ones fold into one `tool_summary` per tool name
//!   (`calls`, `errors`, `error_kinds`, `duration_ms_total`,
//!   `duration_ms_max`), sent when the session ends and, for a session
//!   still open, at each flush point. The session's `tool_calls` and
//!   `error_count` still count every call.
//! - [`TelemetryBuilder::sample_rate`]`(r)`: each process draws once; a
//!   process that is out sends nothing at all ([`OffReason::SampledOut`]),
//!   one that is in sends everything, each record carrying
//!   `"sample_rate": r` when `r < 1`.
//! - [`TelemetryBuilder::max_records`]`(n)` (default
//!   [`DEFAULT_MAX_RECORDS`]): records past it are dropped and counted.
//! - Records dropped before they could be sent (past the cap, refused for
//!   good by the collector, a full queue with no spool to wait in, and the
//!   reasons the delivery layers count) reach the collector as one
//!   `client_report` record, `{"dropped": {"cap": 15}}`, in the next batch
//!   that goes out: in the same request as the next record, or alone at
//!   the next flush point.
//!
//! ```
//! use std::time::Duration;
//! use telemetry_core::{MemorySink, Outcome, Telemetry};
//!
//! let sink = MemorySink::new();
//! let telemetry = Telemetry::isolated("my-agent", "1.2.0")
//!     .sink(sink.clone())
//!     .tool_rollup(50)
//!     .max_records(100)
//!     .build();
//! let session = telemetry.start_session("root");
//! for _ in 0..1_000 {
//!     session.record_tool_call("read_file", Duration::from_millis(2), Outcome::Success);
//! }
//! session.end();
//! telemetry.flush(Duration::from_secs(1));
//! let kinds: Vec<&str> = sink.records().iter().map(|r| r.event().kind()).collect();
//! assert_eq!(kinds.len(), 1 + 50 + 1 + 1); // start, 50 calls, summary, end
//! assert_eq!(kinds[51], "tool_summary");
//! ```
//!
//! Why these defaults, where a choice had to be made: `docs/decisions.md`
//! in the repository.

#![warn(missing_docs)]

/// `Display` as `as_str()`, for the enums whose text is their name in the
/// JSON status (`Rule`, `Level`, `CiPolicy`, `SwitchValue`).
macro_rules! display_as_str {
    ($ty:ty) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
mod client;
mod consent;
mod delivery;
mod env;
pub mod error_kind;
mod files;
mod record;
mod recorder;
mod settings;
mod sink;
#[cfg(test)]
mod test_support;

/// The `telemetry status | show | enable | disable | delete | reset-id`
/// subcommand for a `clap` app (feature `clap`).
#[cfg(feature = "clap")]
pub use consent::subcommand;
/// The mapping of a wire record to an OTLP log record, for collectors that
/// read OTLP back.
pub use sink::protocol::otlp;

/// Configures a client: endpoint, key, config dir, delivery, debug mode.
pub use client::builder::TelemetryBuilder;
/// Futures that carry a client and a session across `.await`.
pub use client::future::{Scoped, WithTelemetry};
/// A session: its tool calls and tokens count toward its totals.
pub use client::session::Session;
/// The client, the current client, and the guard that flushes at exit.
pub use client::telemetry::{current, set_global, FlushGuard, Telemetry};
/// What telemetry does in CI.
pub use consent::ci_policy::CiPolicy;
/// The user's controls: `status`, `show`, `enable`, `disable`, `delete`,
/// `reset-id`, and what `delete` achieved.
pub use consent::controls::{ControlError, Controls, Deletion};
/// The `event` of the record `telemetry delete` sends.
pub use consent::deletion::DELETION_REQUEST;
/// How much is recorded and sent.
pub use consent::level::Level;
/// Machine policy files: their name, and why one cannot be trusted.
pub use consent::machine_policy::{PolicyProblem, POLICY_FILE};
/// The decision: on, off or log-only, and the rule that decided.
pub use consent::precedence::{Decision, Mode, Rule};
/// Why a client is off, and why a record was held back.
pub use consent::reason::{HoldReason, OffReason};
/// `telemetry status`, as text and JSON.
pub use consent::status::Status;
/// What a flush achieved.
pub use delivery::background::Flushed;
/// Inline, background or deferred delivery.
pub use delivery::Delivery;
/// The prefix of an app's own variables, and how a switch value read.
pub use env::{app_env_prefix, SwitchValue};
/// The kind of an error, as recorded.
pub use error_kind::{known_error_kind, TrackedError};
/// Why `telemetry enable | disable` failed, and why a remembered choice
/// cannot be trusted.
pub use files::choice::{ChoiceError, ChoiceNote};
/// A config dir, or a file in it, that is not trusted.
pub use files::config_dir::{ConfigDirRefused, ConfigItem};
/// The notice marker's file name in the config dir.
pub use files::notice_marker::NOTICE_MARKER_FILE;
/// The anonymous id's file name in the config dir.
pub use files::user_id::USER_UUID_FILE;
/// Why an existing file or dir is not used.
pub use files::Refusal;
/// The events a record carries.
pub use record::event::{
    ClientReportEvent, CommandEvent, Event, SessionEndEvent, SessionStartEvent, TokenEvent,
    ToolEvent, ToolSummaryEvent,
};
/// Names from a known set, others sent as `other`.
pub use record::known_names::{known_or_other, OTHER_NAME};
/// Every cap on what a record may hold.
pub use record::limits::{
    MAX_FLAGS, MAX_FLAG_LEN, MAX_LIVE_SESSIONS, MAX_NAME_LEN, MAX_RECORD_LEN,
    MAX_SESSION_ERROR_KINDS, MAX_TAGS, MAX_TAGS_INPUT_LEN, MAX_TAG_KEY_LEN, MAX_TAG_VALUE_LEN,
};
/// How a tracked call ended.
pub use record::outcome::Outcome;
/// One event as sent, and the version of its schema.
pub use record::{Record, SCHEMA_VERSION};
/// The per-process cap on records, unless `max_records` says otherwise.
pub use recorder::cap::DEFAULT_MAX_RECORDS;
/// Where records go: the trait, the in-memory sink, the formats, the
/// compression, the errors.
pub use sink::{Compression, Export, FailurePolicy, MemorySink, SendError, Sink, DEFAULT_TIMEOUT};
/// The HTTP sinks: cagent's records and OTLP/HTTP JSON (feature `http`).
#[cfg(feature = "http")]
pub use sink::{HttpSink, InvalidSetting, OtlpSink, LOGS_PATH};
/// `#[derive(TrackedError)]`: an enum's variant name as the error kind.
pub use telemetry_macros::TrackedError;
/// The attribute macros that record a command or a tool call.
pub use telemetry_macros::{tracked_command, tracked_tool};

use std::borrow::Cow;
use std::time::Duration;

/// [`Telemetry::track_command`] on the [`current`] client; nothing without one.
pub fn track_command<I, S>(action: impl Into<Cow<'static, str>>, args: I)
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    if let Some(telemetry) = current() {
        telemetry.track_command(action, args);
    }
}

/// [`Telemetry::record_tool_call`] on the [`current`] client; nothing without one.
pub fn record_tool_call(
    tool: impl Into<Cow<'static, str>>,
    session_id: &str,
    agent: &str,
    duration: Duration,
    outcome: Outcome,
) {
    if let Some(telemetry) = current() {
        telemetry.record_tool_call(tool, session_id, agent, duration, outcome);
    }
}

/// [`Telemetry::record_token_usage`] on the [`current`] client; nothing without one.
pub fn record_token_usage(
    model: impl Into<Cow<'static, str>>,
    input_tokens: u64,
    output_tokens: u64,
    cost: f64,
) {
    if let Some(telemetry) = current() {
        telemetry.record_token_usage(model, input_tokens, output_tokens, cost);
    }
}

/// [`Telemetry::start_session`] on the [`current`] client; an inert session
/// without one.
pub fn start_session(agent: impl Into<Cow<'static, str>>) -> Session {
    current().unwrap_or_default().start_session(agent)
}

/// For unit tests: an isolated client recording into a fresh [`MemorySink`].
#[cfg(test)]
pub(crate) fn memory_client(app: &str) -> (Telemetry, MemorySink) {
    let sink = MemorySink::new();
    let telemetry = Telemetry::isolated(app, "1").sink(sink.clone()).build();
    (telemetry, sink)
}

// MCP servers built with rmcp (feature `rmcp`); its docs are in the file.
#[cfg(feature = "rmcp")]
pub mod mcp;
