//! Configuring a client: [`TelemetryBuilder`] collects the settings and
//! hands them to the recorder, which reads the environment and decides to
//! be on or off.
//!
//! `build` never fails and never panics. A setting it cannot use turns
//! telemetry off and says why in the debug log.

use crate::debug_log::DebugTarget;
use crate::delivery::Delivery;
use crate::env::Env;
use crate::recorder::Recorder;
use crate::settings::{ConfigDir, Settings};
use crate::sink::Sink;
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
/// | `DO_NOT_TRACK` | `1`/`true`/`yes`/`on` (or any unrecognised value) → off |
/// | `TELEMETRY_ENABLED` | `false`/`0`/`no`/`off` → off; `true`/`1`/`yes`/`on`, empty or unset → on; anything else → off, with a warning |
/// | `TELEMETRY_ENDPOINT` | replaces the endpoint given to [`endpoint`](Self::endpoint) |
/// | `TELEMETRY_TAGS` | `k=v,k2=v2`: extra properties on every record, within the caps of [`tags`](crate::tags) (32 tags; longer input, keys and values are cut) |
/// | `TELEMETRY_HIDE_BANNER` | a true value hides the first-run notice (and so its hold) |
/// | `XDG_CONFIG_HOME`, `HOME` | the default config dir |
/// | `LC_ALL`, `LC_MESSAGES`, `LANG` | `os_language` (language and region only) |
/// | `CI` | `ci` |
#[must_use = "a builder does nothing until `build` is called"]
pub struct TelemetryBuilder {
    settings: Settings,
}

impl TelemetryBuilder {
    pub(crate) fn new(app: String, version: String) -> TelemetryBuilder {
        TelemetryBuilder {
            settings: Settings::new(app, version),
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

    /// The collector's URL (`http` or `https`). `TELEMETRY_ENDPOINT`
    /// overrides it.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.settings.endpoint = Some(url.into());
        self
    }

    /// Sent as the `x-api-key` header; never printed.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.settings.api_key = Some(key.into());
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

    /// Where the anonymous id and the notice marker live. Default:
    /// `$XDG_CONFIG_HOME/<app>`, else `~/.config/<app>`; none at all for
    /// [`Telemetry::isolated`].
    pub fn config_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.config_dir = ConfigDir::At(path.into());
        self
    }

    /// The per-request timeout (default 2 s; zero means the default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// How records are delivered: [`Delivery::Inline`] (the default) or
    /// [`Delivery::Background`] (spooled, sent in batches by a thread,
    /// flushed at the flush points within the [exit
    /// budget](Self::exit_budget)). See `docs/delivery.md` for which to
    /// choose.
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

    /// Decides on or off, and when on, prepares everything to record. Never
    /// fails: a bad setting turns telemetry off and says why in the debug
    /// log ([`Telemetry::off_reason`] tells it too).
    #[must_use]
    pub fn build(self) -> Telemetry {
        Telemetry::from_recorder(Recorder::new(self.settings))
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
            .field("debug", &settings.debug_on())
            .field("timeout", &settings.timeout)
            .field("notice", &settings.notice)
            .finish_non_exhaustive()
    }
}
