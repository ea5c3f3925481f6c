//! What a client is configured with: the settings a
//! [`TelemetryBuilder`](crate::TelemetryBuilder) collects and hands to
//! [`Recorder::new`](crate::recorder::Recorder::new), which does all the
//! start-up work.

use crate::delivery::background::DEFAULT_EXIT_BUDGET;
use crate::delivery::Delivery;
use crate::env::Env;
use crate::record::limits::MAX_APP_NAME_LEN;
use crate::recorder::debug_log::DebugTarget;
use crate::sink::{Export, Sink, DEFAULT_TIMEOUT};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Every setting of a client; nothing here has been checked or used yet.
pub(crate) struct Settings {
    pub(crate) app: String,
    pub(crate) version: String,
    pub(crate) endpoint: Option<String>,
    pub(crate) api_key: Option<String>,
    /// The app allows its key to go to an endpoint set by the environment.
    pub(crate) api_key_for_endpoint_override: bool,
    /// `debug(..)` as called; `None` when never called.
    pub(crate) debug: Option<bool>,
    /// `debug_file` / `debug_writer`; stderr when `None`.
    pub(crate) debug_target: Option<DebugTarget>,
    pub(crate) config_dir: ConfigDir,
    pub(crate) timeout: Duration,
    pub(crate) sink: Option<Arc<dyn Sink>>,
    /// The wire format for the endpoint's sink.
    pub(crate) export: Export,
    pub(crate) notice: bool,
    pub(crate) notice_writer: Option<Box<dyn Write + Send>>,
    pub(crate) env: Env,
    /// The flag names the app declared, as given (checked by the recorder).
    pub(crate) flags: Vec<String>,
    /// The model names sent as they are; `None`: every name. Others are
    /// sent as `other`.
    pub(crate) known_models: Option<Vec<String>>,
    pub(crate) delivery: Delivery,
    /// How long a flush point of background delivery waits.
    pub(crate) exit_budget: Duration,
    /// The HTTP sink's process time budget; `None`: 2 × the timeout.
    pub(crate) time_budget: Option<Duration>,
    /// Tool calls of one name sent per session before the rest are folded
    /// into summaries; `None`: roll-ups off.
    pub(crate) tool_rollup: Option<u32>,
    /// The process sampling rate as given (checked by `build`).
    pub(crate) sample_rate: f64,
    /// Most records this client sends in its process.
    pub(crate) max_records: u64,
}

/// Where the anonymous id and the notice marker live.
pub(crate) enum ConfigDir {
    /// `$XDG_CONFIG_HOME/<app>`, else `~/.config/<app>`, from the environment.
    Default,
    /// A dir the app chose.
    At(PathBuf),
    /// None at all: no file is read or written, and the id lives in memory
    /// for this client only (the isolated client of tests).
    InMemory,
}

impl Settings {
    /// The defaults: the process environment, the notice on, debug off.
    pub(crate) fn new(app: String, version: String) -> Settings {
        Settings {
            app,
            version,
            endpoint: None,
            api_key: None,
            api_key_for_endpoint_override: false,
            debug: None,
            debug_target: None,
            config_dir: ConfigDir::Default,
            timeout: DEFAULT_TIMEOUT,
            sink: None,
            export: Export::Records,
            notice: true,
            notice_writer: None,
            env: Env::process(),
            flags: Vec::new(),
            known_models: None,
            delivery: Delivery::Inline,
            exit_budget: DEFAULT_EXIT_BUDGET,
            time_budget: None,
            tool_rollup: None,
            sample_rate: 1.0,
            max_records: crate::DEFAULT_MAX_RECORDS,
        }
    }

    /// The `User-Agent`: `<app>/<version>`.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn user_agent(&self) -> String {
        format!("{}/{}", self.app, self.version)
    }

    /// The API key for an endpoint set in code, or by the environment
    /// (`from_env`): an overridden endpoint never receives the app's key
    /// unless the app allows it.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn api_key_for(&self, from_env: bool) -> Option<&str> {
        self.api_key
            .as_deref()
            .filter(|_| !from_env || self.api_key_for_endpoint_override)
    }

    /// Debug mode is on when asked for, or when a debug file or writer is
    /// given and `debug(false)` was not called.
    pub(crate) fn debug_on(&self) -> bool {
        self.debug.unwrap_or(self.debug_target.is_some())
    }
}

/// The app-name rule in words, for messages.
pub(crate) fn app_name_rule() -> String {
    format!("1 to {MAX_APP_NAME_LEN} letters, digits, '.', '_' or '-', not starting with '.'")
}

/// The app name names the config dir and the `source`: see
/// [`app_name_rule`].
pub(crate) fn is_valid_app_name(app: &str) -> bool {
    !app.is_empty()
        && app.len() <= MAX_APP_NAME_LEN
        && !app.starts_with('.')
        && app
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names() {
        assert!(is_valid_app_name("my-cli_2.0"));
        for bad in ["", ".hidden", "a/b", "..", "spaced name"] {
            assert!(!is_valid_app_name(bad), "{bad}");
        }
    }
}
