//! Configuring a client: [`TelemetryBuilder`] collects the settings and
//! hands them to the recorder, which reads the environment and decides to
//! be on or off.
//!
//! `build` never fails and never panics. A setting it cannot use turns
//! telemetry off and says why in the debug log.

use crate::consent::app_consent::AppConsent;
use crate::consent::ci_policy::CiPolicy;
use crate::consent::controls::Controls;
use crate::consent::level::Level;
use crate::consent::machine_policy::PolicyDirs;
use crate::delivery::Delivery;
use crate::delivery::RecordBound;
use crate::env::Env;
use crate::recorder::debug_log::DebugTarget;
use crate::recorder::Recorder;
use crate::settings::{ConfigDir, Settings, DEFAULT_BATCH};
use crate::sink::{Compression, Export, Sink};
use crate::Telemetry;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Configures a [`Telemetry`] client. Made by [`Telemetry::builder`].
///
/// The environment is read once, by [`TelemetryBuilder::build`]:
///
/// | variable | effect |
/// |---|---|
/// | `DO_NOT_TRACK` | `1`/`true`/`yes`/`on` (or any unrecognised value) → off, for every app; wins over everything |
/// | `<APP>_TELEMETRY_ENABLED` | this app only (APP = the app name upper-cased, non-alphanumerics as `_`: `AGENT_TELEMETRY_ENABLED` for `agent`); wins over `TELEMETRY_ENABLED`. `false`/`0`/`no`/`off` → off; `log` → log-only; `true`/`1`/`yes`/`on` → on; empty or unset → the next rule; anything else → off, with a warning |
/// | `TELEMETRY_ENABLED` | every app; the same values |
/// | (the remembered choice) | `telemetry disable` / `enable` ([`Controls`]), read only when no variable above decided |
/// | `<APP>_TELEMETRY_ENDPOINT` | this app only; wins over `TELEMETRY_ENDPOINT` |
/// | `TELEMETRY_ENDPOINT` | replaces the endpoint given to [`endpoint`](Self::endpoint); an endpoint from either variable gets no API key unless [`api_key_for_endpoint_override`](Self::api_key_for_endpoint_override) |
/// | `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY` (either case) | the proxy, as in the crate docs' "Where data and the key go" |
/// | `TELEMETRY_TAGS` | `k=v,k2=v2`: extra properties on every record, at most 32 tags, 64-byte keys and 256-byte values from the first 16 KiB (longer input is cut) |
/// | `TELEMETRY_HIDE_BANNER` | a true value hides the first-run notice (and so its hold) |
/// | `XDG_CONFIG_HOME`, `HOME`, `APPDATA`, `USERPROFILE` | the default config dir: `$XDG_CONFIG_HOME/<app>` everywhere; else `%APPDATA%\<app>` on Windows, `~/.config/<app>` elsewhere (macOS included; the passwd entry's home when `HOME` is unset) |
/// | `LC_ALL`, `LC_MESSAGES`, `LANG`, `LANGUAGE` | `os_language` (language and region only) |
/// | `CI` | `ci`; in CI the app's [`CiPolicy`] applies ([`in_ci`](Self::in_ci)) |
/// | the CI providers' and AI agents' own variables (`GITHUB_ACTIONS`, `CLAUDECODE`, ...: each provider's own documented variable) | `ci_provider`, `ai_agent`: a fixed id, never the value's text |
///
/// Over all of these, the machine policy files (fixed paths, see
/// [`policy_dir`](Self::policy_dir)) can only restrict.
///
/// Log-only mode (`log`) prints each record on stderr, `[telemetry]`
/// prefixed, exactly as it would be sent (on the debug log instead when
/// one is set), and sends nothing: no sink is built, no socket opened, no
/// notice shown.
#[must_use = "a builder does nothing until `build` is called"]
pub struct TelemetryBuilder {
    settings: Settings,
    consent: AppConsent,
}

impl TelemetryBuilder {
    pub(crate) fn new(app: String, version: String) -> TelemetryBuilder {
        TelemetryBuilder {
            settings: Settings::new(app, version),
            consent: AppConsent::default(),
        }
    }

    /// A builder for tests: no first-run notice, an empty environment, and
    /// no config dir (no file is read or written; the anonymous id lives in
    /// memory). See [`Telemetry::isolated`].
    pub(crate) fn isolated(app: String, version: String) -> TelemetryBuilder {
        let mut builder = TelemetryBuilder::new(app, version);
        builder.settings.notice = false;
        builder.settings.env = Env::empty();
        builder.settings.config_dir = ConfigDir::InMemory;
        builder
    }

    /// The collector's URL (`http` or `https`). `<APP>_TELEMETRY_ENDPOINT`,
    /// then `TELEMETRY_ENDPOINT`, override it.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.settings.endpoint = Some(url.into());
        self
    }

    /// Sent as the `x-api-key` header; never printed. Only to the endpoint
    /// given in code (see [`api_key_for_endpoint_override`](Self::api_key_for_endpoint_override)),
    /// and only over `https` or to this machine: to plain `http` on another
    /// host the records go without it.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.settings.api_key = Some(key.into());
        self
    }

    /// Whether the API key also goes to an endpoint that the environment
    /// set (`TELEMETRY_ENDPOINT`), instead of the one given in code.
    /// Default `false`: whoever can set one environment variable of the
    /// user's could otherwise collect the app's key. Records still go to
    /// that endpoint, without the key. The `https` rule of
    /// [`api_key`](Self::api_key) holds either way.
    pub fn api_key_for_endpoint_override(mut self, allow: bool) -> Self {
        self.settings.api_key_for_endpoint_override = allow;
        self
    }

    /// Debug mode: every record's exact JSON, and the reason whenever
    /// nothing is sent, on the debug log (stderr unless set otherwise).
    /// Debug mode sends nothing extra. `debug(false)` keeps it off even
    /// when a debug file or writer is given.
    pub fn debug(mut self, on: bool) -> Self {
        self.settings.debug = Some(on);
        self
    }

    /// Appends the debug log to this file instead of stderr, and turns debug
    /// mode on unless [`debug(false)`](Self::debug) is called (before or
    /// after): an app can pass `.debug(flag).debug_file(path)`.
    ///
    /// The file is created 0600; a link, another user's file or anything but
    /// a regular file is refused, and the log then goes to stderr, its first
    /// line saying why.
    pub fn debug_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.debug_target = Some(DebugTarget::File(path.into()));
        self
    }

    /// Writes the debug log to this writer instead of stderr (for tests, or
    /// an app's own log), and turns debug mode on unless
    /// [`debug(false)`](Self::debug) is called (before or after).
    pub fn debug_writer(mut self, writer: impl Write + Send + 'static) -> Self {
        self.settings.debug_target = Some(DebugTarget::Writer(Box::new(writer)));
        self
    }

    /// Where the anonymous id, the notice marker and the remembered choice
    /// live. Default: `$XDG_CONFIG_HOME/<app>`, else `%APPDATA%\<app>` on
    /// Windows and `~/.config/<app>` elsewhere; none at all for
    /// [`Telemetry::isolated`]. Created 0700 when missing; one that is a
    /// link, another user's or writable by others turns telemetry off for
    /// the run ([`OffReason::ConfigDirRefused`](crate::OffReason::ConfigDirRefused)).
    pub fn config_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.config_dir = ConfigDir::At(path.into());
        self
    }

    /// The per-request timeout (default 2 s; zero means the default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// The wire format sent to the endpoint: cagent's records (the
    /// default) or OTLP/HTTP JSON logs ([`Export::Otlp`], the endpoint then
    /// being a collector's base URL). Ignored with [`sink`](Self::sink).
    pub fn export(mut self, format: Export) -> Self {
        self.settings.export = format;
        self
    }

    /// How records are delivered: [`Delivery::Inline`] (the default) or
    /// [`Delivery::Background`] (spooled, sent in batches by a thread,
    /// flushed at the flush points within the [exit
    /// budget](Self::exit_budget)). Inline suits a collector nearby;
    /// background one across the internet.
    pub fn delivery(mut self, delivery: Delivery) -> Self {
        self.settings.delivery = delivery;
        self
    }

    /// How long each flush point of background delivery waits at most
    /// (default 1 s): the end of the outermost `#[tracked_command]`, the
    /// drop of the [`FlushGuard`](crate::FlushGuard). What is not delivered
    /// by then is sent by a later run.
    pub fn exit_budget(mut self, budget: Duration) -> Self {
        self.settings.exit_budget = budget;
        self
    }

    /// The most wall time the HTTP sink waits on the collector in the
    /// whole process, in every delivery mode (default 2 × the
    /// [timeout](Self::timeout); zero means the default). Once spent,
    /// delivery stops for the rest of the process, and the debug log says
    /// so once.
    pub fn time_budget(mut self, budget: Duration) -> Self {
        self.settings.time_budget = Some(budget);
        self
    }

    /// How request bodies are compressed: [`Compression::Gzip`] sends
    /// `Content-Encoding: gzip` (the `gzip` feature, on by default). The
    /// default: none for cagent's records (a cagent-compatible backend may
    /// not accept gzip), gzip for [`Export::Otlp`]. Ignored with
    /// [`sink`](Self::sink).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.settings.compression = Some(compression);
        self
    }

    /// Background delivery's batches: at most `max_records` records and
    /// `max_bytes` bytes of records' JSON (before compression) in one
    /// request. The defaults, 2,000 records and 2 MiB, suit most hosted
    /// backends; lower them for one with a smaller body limit. A single
    /// record larger than `max_bytes` is dropped, and counted
    /// (`batch_too_large`) in the next `client_report`. Zero means the
    /// default.
    pub fn batch_limits(mut self, max_records: usize, max_bytes: usize) -> Self {
        let or_default = |given: usize, default: usize| if given == 0 { default } else { given };
        self.settings.batch_limits = RecordBound {
            max_records: or_default(max_records, DEFAULT_BATCH.max_records),
            max_bytes: or_default(max_bytes, DEFAULT_BATCH.max_bytes),
        };
        self
    }

    /// Adds a header to every request to the endpoint given in code
    /// ([`endpoint`](Self::endpoint)), for a hosted backend's own
    /// authentication (`Authorization`, `x-honeycomb-team`, ...). Like
    /// the API key, it never goes to an endpoint set by the environment
    /// (`TELEMETRY_ENDPOINT`), and its value is never printed (debug and
    /// log mode show `<redacted>`). A name or value that cannot be a
    /// header, or a name the toolkit sets itself (`Content-Type`,
    /// `User-Agent`, `x-api-key`, ...), is left out, and debug mode says
    /// why (without the value). Ignored with [`sink`](Self::sink).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.headers.push((name.into(), value.into()));
        self
    }

    /// Folds tool calls past the first `after` of each tool name in a
    /// session into one `tool_summary` record per tool name (off unless
    /// set: a cagent-compatible backend may not know that event).
    ///
    /// A summary carries `tool_name`, `session_id`, `agent_name`, `calls`
    /// (how many calls it stands for), `errors`, `error_kinds` (kind →
    /// count), `duration_ms_total` and `duration_ms_max`. It is sent when
    /// the session ends, or at a flush point (`flush`, the flush guard's
    /// drop, the end of the outermost `#[tracked_command]`) for a session
    /// still open. The session's totals still count every call. Calls
    /// outside a live session are always sent as they are.
    ///
    /// ```
    /// use std::time::Duration;
    /// use telemetry_core::{MemorySink, Outcome, Telemetry};
    ///
    /// let sink = MemorySink::new();
    /// let telemetry = Telemetry::isolated("my-agent", "1.0.0")
    ///     .sink(sink.clone())
    ///     .tool_rollup(2)
    ///     .build();
    /// let session = telemetry.start_session("root");
    /// for _ in 0..10 {
    ///     session.record_tool_call("read_file", Duration::from_millis(3), Outcome::Success);
    /// }
    /// session.end();
    /// let kinds: Vec<&str> = sink.records().iter().map(|r| r.event().kind()).collect();
    /// assert_eq!(kinds, ["session", "tool", "tool", "tool_summary", "session"]);
    /// let summary = serde_json::to_value(&sink.records()[3]).unwrap();
    /// assert_eq!(summary["properties"]["calls"], 8);
    /// let end = serde_json::to_value(&sink.records()[4]).unwrap();
    /// assert_eq!(end["properties"]["tool_calls"], 10);
    /// ```
    pub fn tool_rollup(mut self, after: u32) -> Self {
        self.settings.tool_rollup = Some(after);
        self
    }

    /// Samples processes: each process draws once, and sends everything
    /// with probability `rate` (0.0 to 1.0, default 1.0), else nothing at
    /// all (no file written, no socket opened, no thread started; the
    /// client is off with [`OffReason::SampledOut`](crate::OffReason::SampledOut)).
    /// Sessions stay whole. Every record of a sampled-in process carries
    /// `"sample_rate": rate` when it is below 1, so that a backend can
    /// weight counts by `1 / rate`. Log-only mode, and debug mode, say
    /// whether this process was sampled in.
    ///
    /// A rate that is NaN or outside `0.0..=1.0` is a mistake in the app's
    /// code: [`build`](Self::build) never panics on it (it never panics),
    /// it uses 1.0, and debug mode says so in one clear line.
    pub fn sample_rate(mut self, rate: f64) -> Self {
        self.settings.sample_rate = rate;
        self
    }

    /// The most records this client sends in its process (default
    /// [`DEFAULT_MAX_RECORDS`](crate::DEFAULT_MAX_RECORDS)); a program has
    /// one client, so this caps the process. Records past it are dropped
    /// and counted, and a `client_report` record (`{"dropped": {"cap": n}}`)
    /// tells the collector how many, with the next batch or at the next
    /// flush point. The report itself is not capped. Log-only mode is not
    /// capped.
    pub fn max_records(mut self, max: u64) -> Self {
        self.settings.max_records = max;
        self
    }

    /// Sends records to `sink` instead of over HTTP (the endpoint and
    /// `TELEMETRY_ENDPOINT` are then ignored).
    pub fn sink(mut self, sink: impl Sink) -> Self {
        self.settings.sink = Some(Arc::new(sink));
        self
    }

    /// Whether to show the first-run notice and hold that run's events
    /// (default `true`). Turn it off in tests, or when the app asks for
    /// consent itself.
    pub fn notice(mut self, show: bool) -> Self {
        self.settings.notice = show;
        self
    }

    /// Whether to keep the local history of what was sent (default
    /// `true`): every record that leaves is appended, as it went on the
    /// wire, to a private file in the config dir, which `telemetry show`
    /// prints. Nothing is kept without a config dir, nor in CI (which
    /// writes nothing there).
    pub fn history(mut self, keep: bool) -> Self {
        self.settings.history = keep;
        self
    }

    /// Whether the anonymous id lasts across runs (default `true`, kept in
    /// the config dir's id file). With `false` every process makes a fresh
    /// random id, its records carry `"ephemeral_id": true` (the marker the
    /// CI policy uses), and no id file is read or written; the notice
    /// marker and the history are kept as usual.
    pub fn persistent_id(mut self, persistent: bool) -> Self {
        self.settings.persistent_id = persistent;
        self
    }

    /// The first-run notice's version (default 1). Raise it when the app
    /// starts collecting something new: a user who saw an older version is
    /// shown the notice once more (with [`notice_changes`](Self::notice_changes)),
    /// and that run's records are held as on a first run. The notice marker
    /// keeps the version seen (`status --json`: `notice_version_seen`). 0
    /// counts as 1.
    pub fn notice_version(mut self, version: u32) -> Self {
        self.consent.notice_version = version.max(1);
        self
    }

    /// One line on what changed, shown with the notice when a raised
    /// [`notice_version`](Self::notice_version) shows it again.
    pub fn notice_changes(mut self, changes: impl Into<String>) -> Self {
        self.consent.notice_changes = Some(changes.into());
        self
    }

    /// The most this app sends (default [`Level::All`]): [`Level::Errors`]
    /// sends failed commands and failed tool calls only. Like every source
    /// of a level, it can only restrict: the strictest of this, the
    /// variables, the remembered choice and the machine policy wins.
    pub fn level(mut self, level: Level) -> Self {
        self.consent.level = level;
        self
    }

    /// What telemetry does in CI (`CI` set to a value that is not false):
    /// default [`CiPolicy::Anonymous`] (no notice, no files, an id for the
    /// process marked `"ephemeral_id": true`), [`CiPolicy::Skip`] (nothing
    /// is sent) or [`CiPolicy::AsUser`]. The opt-out variables and a machine
    /// policy still win.
    pub fn in_ci(mut self, policy: CiPolicy) -> Self {
        self.consent.ci_policy = policy;
        self
    }

    /// Reads the machine policy files from `dir` (`<dir>/telemetry-policy`
    /// and `<dir>/<app>/telemetry-policy`) instead of the system's fixed
    /// paths (`/etc/telemetry-policy` and `/etc/<app>/telemetry-policy` on
    /// Linux; see `docs/policy.md` in the repository), and accepts files
    /// of the current user there as well as root's. For tests: no
    /// variable moves the paths.
    pub fn policy_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.consent.policy_dirs = PolicyDirs::At(dir.into());
        self
    }

    /// Writes the first-run notice (and the warning about an unrecognised
    /// `TELEMETRY_ENABLED`) here instead of stderr.
    pub fn notice_writer(mut self, writer: impl Write + Send + 'static) -> Self {
        self.settings.notice_writer = Some(Box::new(writer));
        self
    }

    /// Reads environment variables through `lookup` instead of the process
    /// environment, so that tests need not change it (`|_| None` for an
    /// empty environment).
    pub fn env(mut self, lookup: impl Fn(&str) -> Option<OsString> + 'static) -> Self {
        self.settings.env = Env::from_fn(lookup);
        self
    }

    /// Reads environment variables from these pairs only, instead of the
    /// process environment.
    ///
    /// ```
    /// use telemetry_core::{MemorySink, Telemetry};
    ///
    /// let telemetry = Telemetry::builder("my-cli", "1.0.0")
    ///     .sink(MemorySink::new())
    ///     .env_vars([("DO_NOT_TRACK", "1")])
    ///     .build();
    /// assert!(!telemetry.is_enabled());
    /// ```
    pub fn env_vars<K, V>(self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<OsString>,
    {
        let vars: Vec<(String, OsString)> = vars
            .into_iter()
            .map(|(name, value)| (name.into(), value.into()))
            .collect();
        self.env(move |name| {
            vars.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        })
    }

    /// Declares flag names the app accepts, with their dashes, exactly as
    /// typed on a command line: `--debug`, `-m`. A command's `args` keep
    /// only declared names; with none declared, they are always empty.
    /// Calls add up (with `clap_flags`, of the `clap` feature, too). An entry
    /// that is not a flag name (`debug`, `--model=x`, `-ab`, non-ASCII) is
    /// ignored, and debug mode says how many were.
    ///
    /// ```
    /// use telemetry_core::{MemorySink, Telemetry};
    ///
    /// let sink = MemorySink::new();
    /// let telemetry = Telemetry::isolated("my-cli", "1.0.0")
    ///     .sink(sink.clone())
    ///     .flags(["--debug", "--model", "-m"])
    ///     .build();
    /// telemetry.track_command("run", ["--debug", "-mgpt-4", "--secret-plan", "prompt"]);
    /// let record = serde_json::to_value(&sink.records()[0]).unwrap();
    /// assert_eq!(record["properties"]["args"], serde_json::json!(["--debug", "-m"]));
    /// ```
    pub fn flags<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let names = names.into_iter().map(|name| name.as_ref().to_owned());
        self.settings.flags.extend(names);
        self
    }

    /// The model names a token event may carry: any other model name is
    /// sent as `other` ([`OTHER_NAME`](crate::OTHER_NAME)), so that users
    /// may configure any model while only names the app's authors listed
    /// leave the machine. Calls add up; without a call, names are sent as
    /// given (cut to [`MAX_NAME_LEN`](crate::MAX_NAME_LEN) bytes).
    ///
    /// ```
    /// use telemetry_core::{MemorySink, Telemetry};
    ///
    /// let sink = MemorySink::new();
    /// let telemetry = Telemetry::isolated("my-agent", "1.0.0")
    ///     .sink(sink.clone())
    ///     .known_models(["gpt-4o", "claude-sonnet-4"])
    ///     .build();
    /// telemetry.record_token_usage("gpt-4o", 10, 5, 0.0);
    /// telemetry.record_token_usage("acme-private-finetune", 10, 5, 0.0);
    /// let names: Vec<_> = sink.records().iter()
    ///     .map(|r| serde_json::to_value(r).unwrap()["properties"]["model_name"].clone())
    ///     .collect();
    /// assert_eq!(names, ["gpt-4o", "other"]);
    /// ```
    pub fn known_models<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let names = names.into_iter().map(|name| name.as_ref().to_owned());
        self.settings
            .known_models
            .get_or_insert_with(Vec::new)
            .extend(names);
        self
    }

    /// Declares every flag name of a `clap` command (with the `clap`
    /// feature): each argument's long and short names and aliases, the
    /// `--help`/`-h` and `--version`/`-V` clap generates, and the same for
    /// every subcommand, recursively. Adds to [`flags`](Self::flags).
    ///
    /// ```
    /// use clap::{Arg, ArgAction, Command};
    /// use telemetry_core::{MemorySink, Telemetry};
    ///
    /// let cli = Command::new("my-cli")
    ///     .arg(Arg::new("debug").long("debug").action(ArgAction::SetTrue))
    ///     .subcommand(Command::new("run").arg(Arg::new("model").long("model").short('m')));
    /// let sink = MemorySink::new();
    /// let telemetry = Telemetry::isolated("my-cli", "1.0.0")
    ///     .sink(sink.clone())
    ///     .clap_flags(&cli)
    ///     .build();
    /// telemetry.track_command("run", ["--debug", "run", "--model=gpt-4", "--not-declared"]);
    /// let record = serde_json::to_value(&sink.records()[0]).unwrap();
    /// assert_eq!(record["properties"]["args"], serde_json::json!(["--debug", "--model"]));
    /// ```
    #[cfg(feature = "clap")]
    pub fn clap_flags(mut self, command: &clap::Command) -> Self {
        crate::record::clap_flags::declared_flag_names(command, &mut self.settings.flags);
        self
    }

    /// Decides on or off, and when on, prepares everything to record. Never
    /// fails: a bad setting turns telemetry off and says why in the debug
    /// log ([`Telemetry::off_reason`] tells it too).
    #[must_use]
    pub fn build(self) -> Telemetry {
        Telemetry::from_recorder(Recorder::new(self.settings, self.consent))
    }

    /// The user's controls for this app, without building a client: for an
    /// app's `telemetry status | enable | disable | reset-id` subcommand.
    /// Reads the environment and the remembered choice; shows no notice,
    /// writes no file, opens no socket, records nothing.
    ///
    /// ```
    /// use telemetry_core::Telemetry;
    ///
    /// let controls = Telemetry::builder("my-cli", "1.0.0")
    ///     .endpoint("https://collector.example/v1/events")
    ///     .env_vars([("DO_NOT_TRACK", "1")])
    ///     .controls();
    /// let status = controls.status();
    /// assert!(!status.enabled);
    /// assert_eq!(status.variable.as_deref(), Some("DO_NOT_TRACK"));
    /// println!("{status}"); // `my-cli telemetry status`
    /// ```
    #[must_use]
    pub fn controls(self) -> Controls {
        Controls::for_subcommand(&self.settings, &self.consent)
    }
}

impl std::fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the endpoint (it may carry credentials) nor the API key.
        let settings = &self.settings;
        f.debug_struct("TelemetryBuilder")
            .field("app", &settings.app)
            .field("version", &settings.version)
            .field("api_key", &settings.api_key.as_ref().map(|_| "<redacted>"))
            .field(
                "headers",
                &settings
                    .headers
                    .iter()
                    .map(|(name, _)| (name.as_str(), "<redacted>"))
                    .collect::<Vec<_>>(),
            )
            .field("compression", &settings.compression)
            .field("batch_limits", &settings.batch_limits)
            .field("debug", &settings.debug_on())
            .field("timeout", &settings.timeout)
            .field("notice", &settings.notice)
            .finish_non_exhaustive()
    }
}
