//! Configuring a client: settings, the environment, and the decision to be
//! on or off.
//!
//! `build` never fails and never panics. A setting it cannot use turns
//! telemetry off and says why in the debug log.

use crate::debug_log::{DebugLog, DebugTarget};
use crate::identity::{self, ConfigDir, NoConfigDir, NoticeMarker};
use crate::opt_out::{self, OptOut, Switch};
use crate::record::{CommonFields, RecordContext};
use crate::session::LiveSessions;
use crate::sink::{HttpSink, Sink, DEFAULT_TIMEOUT};
use crate::telemetry::Recorder;
use crate::{notice, tags, Telemetry};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Once};
use std::time::Duration;

type EnvLookup = Box<dyn Fn(&str) -> Option<OsString>>;

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
pub struct TelemetryBuilder {
    app: String,
    version: String,
    endpoint: Option<String>,
    api_key: Option<String>,
    debug: bool,
    debug_target: DebugTarget,
    config_dir: Option<PathBuf>,
    timeout: Duration,
    sink: Option<Arc<dyn Sink>>,
    notice: bool,
    notice_writer: Option<Box<dyn Write + Send>>,
    env: EnvLookup,
}

impl TelemetryBuilder {
    pub(crate) fn new(app: String, version: String) -> TelemetryBuilder {
        TelemetryBuilder {
            app,
            version,
            endpoint: None,
            api_key: None,
            debug: false,
            debug_target: DebugTarget::Stderr,
            config_dir: None,
            timeout: DEFAULT_TIMEOUT,
            sink: None,
            notice: true,
            notice_writer: None,
            env: Box::new(|name| std::env::var_os(name)),
        }
    }

    /// The collector's URL (`http` or `https`). `TELEMETRY_ENDPOINT`
    /// overrides it.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Sent as the `x-api-key` header; never printed.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Debug mode: every record's exact JSON, and the reason whenever
    /// nothing is sent, on the debug log (stderr unless set otherwise).
    /// Debug mode sends nothing extra.
    pub fn debug(mut self, on: bool) -> Self {
        self.debug = on;
        self
    }

    /// Appends the debug log to this file instead of stderr.
    pub fn debug_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.debug_target = DebugTarget::File(path.into());
        self
    }

    /// Writes the debug log to this writer instead of stderr (for tests, or
    /// an app's own log).
    pub fn debug_writer(mut self, writer: impl Write + Send + 'static) -> Self {
        self.debug_target = DebugTarget::Writer(Box::new(writer));
        self
    }

    /// Where the anonymous id and the notice marker live. Default:
    /// `$XDG_CONFIG_HOME/<app>`, else `~/.config/<app>`.
    pub fn config_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.config_dir = Some(path.into());
        self
    }

    /// The per-request timeout (default 2 s; zero means the default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends records to `sink` instead of over HTTP (the endpoint and
    /// `TELEMETRY_ENDPOINT` are then ignored).
    pub fn sink(mut self, sink: impl Sink) -> Self {
        self.sink = Some(Arc::new(sink));
        self
    }

    /// Whether to show the first-run notice and hold that run's events
    /// (default `true`). Turn it off in tests, or when the app asks for
    /// consent itself.
    pub fn notice(mut self, show: bool) -> Self {
        self.notice = show;
        self
    }

    /// Writes the first-run notice (and the warning about an unrecognised
    /// `TELEMETRY_ENABLED`) here instead of stderr.
    pub fn notice_writer(mut self, writer: impl Write + Send + 'static) -> Self {
        self.notice_writer = Some(Box::new(writer));
        self
    }

    /// Reads environment variables through `lookup` instead of the process
    /// environment, so that tests need not change it (`|_| None` for an
    /// empty environment).
    pub fn env(mut self, lookup: impl Fn(&str) -> Option<OsString> + 'static) -> Self {
        self.env = Box::new(lookup);
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
    /// fails: a bad setting turns telemetry off and says why in the debug log.
    pub fn build(mut self) -> Telemetry {
        let debug = self.debug.then(|| {
            DebugLog::open(std::mem::replace(
                &mut self.debug_target,
                DebugTarget::Stderr,
            ))
        });
        match self.prepare(debug.as_ref()) {
            Ok(parts) => Telemetry::from_recorder(Recorder {
                context: Arc::new(parts.context),
                sink: parts.sink,
                hold: parts.hold,
                debug,
                stop_logged: AtomicBool::new(false),
                sessions: LiveSessions::default(),
            }),
            Err(reason) => {
                if let Some(debug) = &debug {
                    debug.line(&reason);
                }
                Telemetry::disabled()
            }
        }
    }

    fn var(&self, name: &str) -> Option<OsString> {
        (self.env)(name)
    }

    fn prepare(&mut self, debug: Option<&DebugLog>) -> Result<Prepared, String> {
        let decision = opt_out::decide(
            self.var("DO_NOT_TRACK").as_deref(),
            self.var("TELEMETRY_ENABLED").as_deref(),
        );
        if let Err(opt_out) = decision {
            if opt_out == OptOut::UnrecognisedEnabled {
                self.warn_unrecognised_enabled();
            }
            return Err(opt_out.reason().to_owned());
        }
        check_app_name(&self.app)?;
        let sink = self.make_sink()?;
        let log = |line: &str| {
            if let Some(debug) = debug {
                debug.line(line);
            }
        };
        let tags = match self.var("TELEMETRY_TAGS") {
            None => Vec::new(),
            Some(raw) => match raw.to_str() {
                Some(text) => tags::parse_tags(text),
                None => {
                    log("TELEMETRY_TAGS is not valid UTF-8; no tags are added");
                    Vec::new()
                }
            },
        };
        let config_dir = self.config_dir.clone().or_else(|| {
            identity::default_config_dir(
                &self.app,
                self.var("XDG_CONFIG_HOME").map(PathBuf::from),
                self.var("HOME").map(PathBuf::from),
            )
        });
        let home = self.var("HOME").map(PathBuf::from);
        let sudo_uid_set = self.var("SUDO_UID").is_some();
        let config_dir =
            match identity::open_config_dir(config_dir.as_deref(), home.as_deref(), sudo_uid_set) {
                Ok(dir) => Some(dir),
                Err(NoConfigDir::Refused(refused)) => return Err(off_for_this_run(refused)),
                Err(none) => {
                    log(&none.to_string());
                    None
                }
            };
        let hold = self.first_run_hold(config_dir.as_ref())?;
        let (user_uuid, note) =
            identity::user_uuid(config_dir.as_ref()).map_err(off_for_this_run)?;
        if let Some(note) = note {
            log(note);
        }
        let common = CommonFields {
            user_uuid,
            version: tags::truncate_at_char_boundary(&self.version, 64).to_owned(),
            os: std::env::consts::OS,
            os_language: self.os_language(),
            arch: std::env::consts::ARCH,
            ci: self.is_ci(),
        };
        Ok(Prepared {
            context: RecordContext {
                source: self.app.clone(),
                common,
                tags,
            },
            sink,
            hold,
        })
    }

    fn make_sink(&mut self) -> Result<Arc<dyn Sink>, String> {
        if let Some(sink) = self.sink.take() {
            return Ok(sink);
        }
        let from_env = match self.var("TELEMETRY_ENDPOINT") {
            None => None,
            Some(raw) => match raw.to_str() {
                Some(text) if text.trim().is_empty() => None,
                Some(text) => Some(text.to_owned()),
                None => {
                    return Err("telemetry is off: TELEMETRY_ENDPOINT is not valid UTF-8".into())
                }
            },
        };
        let Some(endpoint) = from_env.or_else(|| self.endpoint.clone()) else {
            return Err("telemetry is off: no endpoint and no sink to send to".into());
        };
        let user_agent = format!("{}/{}", self.app, self.version);
        HttpSink::new(
            &endpoint,
            &user_agent,
            self.api_key.as_deref(),
            self.timeout,
        )
        .map(|sink| Arc::new(sink) as Arc<dyn Sink>)
        .map_err(|invalid| format!("telemetry is off: {invalid}"))
    }

    /// Shows the notice when this is the first run, and returns why this
    /// run's events must then be held back.
    fn first_run_hold(
        &mut self,
        config_dir: Option<&ConfigDir>,
    ) -> Result<Option<&'static str>, String> {
        let hidden =
            opt_out::read_switch(self.var("TELEMETRY_HIDE_BANNER").as_deref()) == Switch::On;
        if !self.notice || hidden {
            return Ok(None);
        }
        Ok(match identity::claim_notice(config_dir).map_err(off_for_this_run)? {
            NoticeMarker::AlreadyShown => None,
            NoticeMarker::ShowNow => {
                notice::write_notice(&mut *self.notice_out(), &self.app);
                Some("first run: the notice was just shown; sending starts with the next run")
            }
            NoticeMarker::ShownToAnotherRun => Some("first run: another run showed the notice after this one started; sending starts with the next run"),
            NoticeMarker::ShowEveryRun => {
                notice::write_notice(&mut *self.notice_out(), &self.app);
                Some("the config dir is not writable, so the notice is shown and nothing is sent on every run")
            }
        })
    }

    fn notice_out(&mut self) -> Box<dyn Write + Send> {
        self.notice_writer
            .take()
            .unwrap_or_else(|| Box::new(std::io::stderr()))
    }

    fn warn_unrecognised_enabled(&mut self) {
        static WARNED: Once = Once::new();
        let mut out = self.notice_out();
        WARNED.call_once(|| {
            let _ = writeln!(
                out,
                "warning: TELEMETRY_ENABLED has an unrecognised value; telemetry is off (use true or false)"
            );
        });
    }

    fn os_language(&self) -> String {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|name| self.var(name))
            .find(|value| !value.is_empty())
            .as_deref()
            .and_then(OsStr::to_str)
            .map(language_and_region)
            .unwrap_or_default()
    }

    fn is_ci(&self) -> bool {
        !matches!(
            opt_out::read_switch(self.var("CI").as_deref()),
            Switch::Unset | Switch::Off
        )
    }
}

struct Prepared {
    context: RecordContext,
    sink: Arc<dyn Sink>,
    hold: Option<&'static str>,
}

fn off_for_this_run(refused: identity::ConfigDirRefused) -> String {
    format!("telemetry is off for this run: {refused}")
}

/// The app name names the config dir and the `source`: 1 to 64 of
/// `A-Z a-z 0-9 . _ -`, not starting with a dot.
fn check_app_name(app: &str) -> Result<(), String> {
    let valid = !app.is_empty()
        && app.len() <= 64
        && !app.starts_with('.')
        && app
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err("telemetry is off: the app name must be 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'".into())
    }
}

/// `en_US.UTF-8@euro` → `en_US`; anything unexpected → empty.
fn language_and_region(locale: &str) -> String {
    let base = locale.split(['.', '@']).next().unwrap_or_default();
    let valid = base.len() <= 16
        && base
            .bytes()
            .all(|byte| byte.is_ascii_alphabetic() || byte == b'_' || byte == b'-');
    if valid && base != "C" && base != "POSIX" {
        base.to_owned()
    } else {
        String::new()
    }
}

impl std::fmt::Debug for TelemetryBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryBuilder")
            .field("app", &self.app)
            .field("version", &self.version)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("debug", &self.debug)
            .field("config_dir", &self.config_dir)
            .field("timeout", &self.timeout)
            .field("notice", &self.notice)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales() {
        assert_eq!(language_and_region("en_US.UTF-8"), "en_US");
        assert_eq!(language_and_region("de_DE@euro"), "de_DE");
        assert_eq!(language_and_region("C.UTF-8"), "");
        assert_eq!(language_and_region("/etc/passwd"), "");
    }

    #[test]
    fn app_names() {
        assert!(check_app_name("my-cli_2.0").is_ok());
        for bad in ["", ".hidden", "a/b", "..", "spaced name"] {
            assert!(check_app_name(bad).is_err(), "{bad}");
        }
    }
}
