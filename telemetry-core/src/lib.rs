//! Anonymous, opt-out usage telemetry for Rust command-line programs and
//! AI-agent runtimes.
//!
//! Annotate command handlers with `#[tracked_command]` and tool functions
//! with `#[tracked_tool]`; each call is timed, its success or failure
//! captured, and a typed event handed to the recorder, which sends it inline
//! (the call returns once the collector answered or the attempt failed; or,
//! opted in, spools it and sends batches in the background) and honours the
//! opt-out (`TELEMETRY_ENABLED=false`, `DO_NOT_TRACK=1`, the app's own
//! `<APP>_TELEMETRY_ENABLED`, or `<app> telemetry disable`). The
//! wire format is that of Docker's `cagent`.
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
//! When telemetry is off, or there is no current client, a tracked call costs
//! one relaxed atomic load: no clock read, no allocation. The outcome follows
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
//! # The user's controls: `telemetry status | enable | disable | reset-id`
//!
//! Give your app a `telemetry` subcommand that runs on
//! [`TelemetryBuilder::controls`] (not a built client, so it records
//! nothing): [`Controls::status`] says whether telemetry is on, which
//! setting decided and what to change, as text or JSON ([`Status`]);
//! [`Controls::enable`], [`Controls::disable`] (which also deletes anything
//! spooled) and [`Controls::reset_id`] change it. With the `clap` feature,
//! `subcommand::command()` and `subcommand::run(..)` are the whole thing.
//! The variables (table on [`TelemetryBuilder`]) win over the remembered
//! choice: `DO_NOT_TRACK`, then `<APP>_TELEMETRY_ENABLED`, then
//! `TELEMETRY_ENABLED`, then the choice, then the default (on), and with
//! nothing to send to, off. `log` prints each record instead of sending it.
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
//! # Decisions
//!
//! - A tracked command's `args` are the declared flag names of the
//!   process's own command line (`std::env::args`, filtered like
//!   [`Telemetry::track_command`]); the macros never read a parameter.
//!   A single-dash flag keeps its one letter only: `-pPASSWORD` is sent as
//!   `-p` (when `-p` is declared), since what follows may be an attached
//!   value; so a declared short flag is `-` and one letter, and bundles
//!   (`-abc`) count as their first letter.
//! - Declared flag names are given with their dashes (`--debug`, `-m`), so
//!   that `--x` and `-x` stay distinct and the list reads like the command
//!   line; an entry that is not a flag name is ignored (debug mode says how
//!   many). Undeclared words are dropped without a trace: no count is sent,
//!   which keeps the wire format cagent's.
//! - [`Telemetry::record_tool_call`] is explicit: the event carries the
//!   session id and agent passed, never the current session's. When a live
//!   session of the same client has that id, the call also counts toward
//!   its totals. Token usage and `#[tracked_tool]` belong to the session
//!   current when they start ([`Session::scope`],
//!   [`WithTelemetry::with_session`]).
//! - `DO_NOT_TRACK` with a value that is neither true nor false (or not
//!   UTF-8) is read as a wish not to be tracked.
//! - `TELEMETRY_HIDE_BANNER=1` hides the notice, so there is nothing for the
//!   user to read first: that run sends, and no marker is written.
//! - No run shows a notice it cannot remember: with the notice on and no
//!   usable config dir (none set, it cannot be created, a read-only one
//!   without the marker, root acting for another user), telemetry is off
//!   for the run (`no_config_dir`, `root_for_another_user`), and nothing is
//!   sent. With the notice off (`notice(false)`, `TELEMETRY_HIDE_BANNER`)
//!   such a run sends with an id for this process only. A notice marker
//!   dated later than now counts as seen. An isolated client shows no
//!   notice, so it holds nothing.
//! - Live sessions are found by id through a map: starting, ending and a
//!   tool call by id cost the same with a hundred or a hundred thousand
//!   sessions live. At most [`MAX_LIVE_SESSIONS`] per client are found by
//!   id; past it, starting a session forgets the oldest one's id, so that
//!   sessions leaked with `mem::forget` cannot grow the registry without
//!   limit. A session whose id was forgotten is not ended: its guard, its
//!   own methods and its scopes still count toward it, and it still sends
//!   its end event.
//! - Why a client is off is an [`OffReason`] ([`Telemetry::off_reason`]);
//!   its text is the line debug mode prints.
//! - A debug file or writer turns debug mode on, unless `debug(false)` is
//!   called, in either order.
//! - The HTTP sink stops after a transport failure, for the rest of the
//!   process ([`FailurePolicy::StopAfterTransportFailure`]); a sink of your
//!   own keeps going unless its [`Sink::failure_policy`] says otherwise,
//!   and the debug log follows the policy.
//! - A run sends only if the notice marker existed before its process
//!   started; runs started together with the one that showed the notice
//!   hold their records ([`HoldReason::ShownToAnotherRun`]). The start is
//!   read from `/proc/self/stat`, conservatively: a run started within
//!   about 20 ms of the marker's creation (2 s on a file system with
//!   whole-second times) holds its records too. Where the start is unknown,
//!   the process is taken to have started 2 s before its first client was
//!   built. Clients built later in the process that showed the notice hold
//!   theirs as well.
//! - The `user-uuid` file is created exclusively (written to a temporary
//!   file, then hard-linked to its name): of runs started together, one
//!   creates it and the others read its id.
//! - A config dir that is a file, or cannot be created, means no config dir
//!   (the notice on every run, nothing sent, an id for this process only).
//!   One that is a symlink, another user's or group/world-writable turns
//!   telemetry off for the run ([`OffReason::ConfigDirRefused`]; it is left
//!   as it is), as does such an id file or marker. A FIFO or other
//!   non-regular file at the id path gives an id for this process only.
//!   Missing dirs are created 0700. Root with `SUDO_UID` set, or with a
//!   `HOME` of another user's (`sudo -E`), has no config dir: nothing is
//!   written as root in a user's dir.
//! - A debug file is created 0600 and never reached through a symlink;
//!   another user's file, or anything but a regular file, is refused and the
//!   log goes to stderr. The fallback line names the reason, never the path
//!   (the user set it; no debug line carries a path).
//! - Names (command, tool, model, agent) and error kinds are cut to
//!   [`MAX_NAME_LEN`] bytes; tags to 32 entries of 64-byte keys and 256-byte
//!   values; flag lists to 32 names of at most 64 bytes; a `NaN`, infinite
//!   or negative cost is sent as `0`; token totals saturate at `u64::MAX`.
//!   Every record therefore stays within [`MAX_RECORD_LEN`] (80 KiB)
//!   whatever the input; a typical record is under 1 KiB.
//! - Events, [`Outcome`], [`SendError`], [`OffReason`], [`HoldReason`],
//!   [`FailurePolicy`], [`ConfigItem`], [`Refusal`], [`ConfigDirRefused`],
//!   [`Delivery`] and [`Flushed`] are `#[non_exhaustive]`: match them with a wildcard arm (or `..`).
//! - One decision, made the same way for [`TelemetryBuilder::controls`] and
//!   [`TelemetryBuilder::build`]: a variable's `log` selects log-only mode,
//!   which needs no endpoint; an *on* from any rule with nothing to send to
//!   reports `no_endpoint`; then every veto (the app name, the endpoint, the
//!   config dir and its files, the remembered choice) is its own [`Rule`],
//!   and [`Status`] explains it, naming the path or variable and the fix. A
//!   remembered choice that cannot be trusted (a link, not ours, not a
//!   file, unreadable, empty or unknown content) is a veto: off whatever
//!   the variables say.
//! - Log-only mode needs no notice: nothing leaves the machine, so there is
//!   nothing to hold and no marker is written. It reads or creates the
//!   anonymous id like an enabled client, so the printed records are the
//!   ones that would be sent. [`Telemetry::is_enabled`] is `true` in
//!   log-only mode (records are made); [`Status`] `enabled` is `false`
//!   (nothing is sent). With debug mode on, each record is printed once,
//!   on the debug log.
//! - A client that is off keeps its [`Controls`] (for
//!   [`Telemetry::status`]) and still writes no file, opens no socket and
//!   starts no thread; [`Telemetry::disabled`] reports `disabled_in_code`.
//! - `telemetry enable | disable | reset-id` write only the choice file (and
//!   remove the id, or the spool), and send nothing. An unrecognised value
//!   of either variable says "use true, false or log".
//! - The passwd entry stands in for an unset `HOME` only in the process
//!   environment, never in one given with `env`/`env_vars`.
//! - The default config dir on macOS is `~/.config/<app>` (where it has
//!   always been), not `~/Library/Application Support`; with `HOME` unset
//!   on Unix, the passwd entry's home is used. `os_language` falls back to
//!   the first entry of `LANGUAGE` when `LC_ALL`, `LC_MESSAGES` and `LANG`
//!   are unset.
//! - `ci_provider` and `ai_agent` come only from the variables listed in
//!   `docs/where-it-runs.md`; an agent without a documented variable of its
//!   own (Cursor, Devin, ...) is not reported.
//! - Delivery is inline unless the builder asks for
//!   [`Delivery::Background`] (see `docs/delivery.md` for which to choose).
//!   Background mode spools each record to
//!   `<config dir>/telemetry-spool-<random>.jsonl` (0600, one file per
//!   process, locked while it lives) and sends batches of up to 2,000
//!   records (2 MiB) from one thread. It flushes at the end of the
//!   outermost `#[tracked_command]`, on [`Telemetry::flush`] and when the
//!   [`FlushGuard`] drops, each within the exit budget (1 s); after a flush
//!   point ran out of it, the next one does not wait again until a flush
//!   completes, so a silent collector costs a process one exit budget.
//!   What is left is sent first by the next run with telemetry on. An
//!   isolated client (no config dir) spools in memory only. A sink that
//!   does not implement [`Sink::send_serialised`] is used inline.
//! - Opting out (`DO_NOT_TRACK`, `TELEMETRY_ENABLED`, any rule of the
//!   opt-out) deletes the spool files in the config dir, unsent, and
//!   creates nothing. Other reasons to be off (no endpoint, a bad setting)
//!   leave them for a later run.
//! - The HTTP sink has a time budget for the whole process, in every mode
//!   (default 2 × the timeout, [`TelemetryBuilder::time_budget`]): each
//!   request is charged its wait beyond 100 ms, and its deadline is cut to
//!   what is left; once spent, delivery stops for the process
//!   ([`SendError::BudgetSpent`], one debug line). A healthy collector
//!   never spends it; one answering just under the timeout costs about the
//!   budget in all.
//! - The HTTP sink sends a request once more only after it failed with no
//!   answer on a reused keep-alive connection (the server closed it as the
//!   request went out); never after a failure on a fresh connection, which
//!   the server may have read.

#![warn(missing_docs)]

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
mod client;
mod consent;
// The spool's and the sender's process tests read the variables their
// parent sets for the child (test builds only).
#[cfg_attr(test, allow(clippy::disallowed_methods))]
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

#[cfg(feature = "clap")]
pub use consent::subcommand;
#[doc(hidden)]
pub use delivery::{background, spool};
pub use files::choice;
pub use sink::protocol::otlp;

pub use client::builder::TelemetryBuilder;
pub use client::future::{Scoped, WithTelemetry};
pub use client::session::Session;
pub use client::telemetry::{current, set_global, FlushGuard, Telemetry};
pub use consent::controls::{ControlError, Controls};
pub use consent::precedence::{Decision, Mode, Rule};
pub use consent::reason::{HoldReason, OffReason};
pub use consent::status::Status;
pub use delivery::background::Flushed;
pub use delivery::Delivery;
pub use env::{app_env_prefix, SwitchValue};
pub use error_kind::{known_error_kind, TrackedError};
pub use files::choice::ChoiceNote;
pub use files::config_dir::{ConfigDirRefused, ConfigItem};
pub use files::notice_marker::NOTICE_MARKER_FILE;
pub use files::user_id::USER_UUID_FILE;
pub use files::Refusal;
pub use record::event::{
    CommandEvent, Event, SessionEndEvent, SessionStartEvent, TokenEvent, ToolEvent,
};
pub use record::known_names::{known_or_other, OTHER_NAME};
pub use record::limits::{
    MAX_FLAGS, MAX_FLAG_LEN, MAX_LIVE_SESSIONS, MAX_NAME_LEN, MAX_RECORD_LEN,
    MAX_SESSION_ERROR_KINDS, MAX_TAGS, MAX_TAGS_INPUT_LEN, MAX_TAG_KEY_LEN, MAX_TAG_VALUE_LEN,
};
pub use record::outcome::Outcome;
pub use record::{Record, SCHEMA_VERSION};
pub use sink::{Compression, Export, FailurePolicy, MemorySink, SendError, Sink, DEFAULT_TIMEOUT};
#[cfg(feature = "http")]
pub use sink::{HttpSink, InvalidSetting, OtlpSink, LOGS_PATH};
pub use telemetry_macros::TrackedError;
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
