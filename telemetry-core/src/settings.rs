//! What a client is configured with: the settings a
//! [`TelemetryBuilder`](crate::TelemetryBuilder) collects and hands to
//! [`Recorder::new`](crate::recorder::Recorder::new), which does all the
//! start-up work.

use crate::delivery::background::{BATCH_BYTES, BATCH_RECORDS, DEFAULT_EXIT_BUDGET};
use crate::delivery::backoff::Backoff;
use crate::delivery::{Delivery, RecordBound};
use crate::env::Env;
use crate::record::limits::MAX_APP_NAME_LEN;
use crate::recorder::debug_log::DebugTarget;
use crate::sink::{Compression, Export, Sink, DEFAULT_TIMEOUT};
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
    /// Keep the local history of what was sent (default `true`).
    pub(crate) history: bool,
    /// Keep the anonymous id in a file across runs (default `true`).
    pub(crate) persistent_id: bool,
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
    /// Body compression; `None`: the wire format's default.
    pub(crate) compression: Option<Compression>,
    /// The app's own headers (name, value), for its own endpoint only.
    pub(crate) headers: Vec<(String, String)>,
    /// Background delivery's batch limits: most records, most bytes.
    pub(crate) batch_limits: RecordBound,
}

/// Most records and bytes of records' JSON in one batch of background
/// delivery unless the app says otherwise (2,000 and 2 MiB, as the
/// builder's and `docs/delivery.md`'s words say)
/// ([`TelemetryBuilder::batch_limits`](crate::TelemetryBuilder::batch_limits)).
pub(crate) const DEFAULT_BATCH: RecordBound = RecordBound {
    max_records: BATCH_RECORDS,
    max_bytes: BATCH_BYTES,
};

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
            history: true,
            persistent_id: true,
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
            compression: None,
            headers: Vec::new(),
            batch_limits: DEFAULT_BATCH,
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

/// Why [`Settings::http_sink`] made no sink.
pub(crate) enum NoHttpSink {
    /// telemetry-core was built without its `http` feature.
    #[cfg_attr(feature = "http", allow(dead_code))]
    NoHttpSupport,
    /// A setting cannot be used; the sentence says which.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    Invalid(String),
}

impl Settings {
    /// The HTTP sink these settings describe for `endpoint`. An endpoint
    /// from the environment (`from_env`) gets neither the app's API key
    /// (unless the app allows it) nor its headers; each thing withheld or
    /// refused is said through `log`. Returns the sink and its back-off;
    /// without the `http` feature there is none.
    // Without the feature, the early return is the whole body.
    #[cfg_attr(not(feature = "http"), allow(clippy::needless_return))]
    pub(crate) fn http_sink(
        &self,
        endpoint: &str,
        from_env: bool,
        log: &dyn Fn(&str),
    ) -> Result<(Arc<dyn Sink>, Arc<Backoff>), NoHttpSink> {
        #[cfg(not(feature = "http"))]
        {
            let _ = (endpoint, from_env, log);
            return Err(NoHttpSink::NoHttpSupport);
        }
        #[cfg(feature = "http")]
        {
            use crate::sink::http::route::KeyWithheld;
            let api_key = self.api_key_for(from_env);
            if self.api_key.is_some() && api_key.is_none() {
                log(&KeyWithheld::EndpointFromEnvironment.to_string());
            }
            // The app's own headers follow the key's rule: its own endpoint only.
            let mut headers = Vec::new();
            if from_env && !self.headers.is_empty() {
                log(&format!(
                    "{} header(s) of the app withheld: the endpoint comes from the environment, and the app's headers go only to its own",
                    self.headers.len()
                ));
            } else {
                for (name, value) in &self.headers {
                    match crate::sink::http::check_header(name, value) {
                        Ok(checked) => headers.push(checked),
                        Err(refused) => log(&refused.to_string()),
                    }
                }
            }
            if self.compression == Some(Compression::Gzip)
                && Compression::Gzip.available() != Compression::Gzip
            {
                log("gzip needs the `gzip` feature of telemetry-core; bodies go uncompressed");
            }
            let user_agent = self.user_agent();
            let made = self
                .export
                .sink(
                    endpoint,
                    crate::sink::HttpOptions {
                        user_agent: &user_agent,
                        api_key,
                        timeout: self.timeout,
                        time_budget: self.time_budget,
                        compression: self.compression,
                        headers,
                        env: &self.env,
                    },
                )
                .map_err(|invalid| NoHttpSink::Invalid(invalid.to_string()))?;
            if api_key.is_some() && !made.sends_api_key {
                log(&KeyWithheld::PlainHttp.to_string());
            }
            Ok((made.sink, made.backoff))
        }
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

    /// The builder's docs and `docs/delivery.md` state the default batch
    /// in words: 2,000 records, 2 MiB.
    #[test]
    fn the_default_batch_is_the_documented_one() {
        assert_eq!(DEFAULT_BATCH.max_records, 2_000);
        assert_eq!(DEFAULT_BATCH.max_bytes, 2 * 1024 * 1024);
        let docs = include_str!("client/builder.rs");
        assert!(docs.contains("The defaults, 2,000 records and 2 MiB"));
    }
}
