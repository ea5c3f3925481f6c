//! The choice of wire format for a client built with an endpoint.

#[cfg(feature = "http")]
use super::otlp::logs_url;
#[cfg(feature = "http")]
use super::{Compression, HttpSink, InvalidSetting, OtlpSink, Sink};
#[cfg(feature = "http")]
use crate::delivery::backoff::Backoff;
#[cfg(feature = "http")]
use crate::env::Env;
#[cfg(feature = "http")]
use reqwest::header::{HeaderName, HeaderValue};
#[cfg(feature = "http")]
use std::sync::Arc;
#[cfg(feature = "http")]
use std::time::Duration;

/// What a client built with an endpoint sends, chosen with
/// [`TelemetryBuilder::export`](crate::TelemetryBuilder::export).
///
/// ```
/// use telemetry_core::{Export, Telemetry};
///
/// // Records go to http://127.0.0.1:4318/v1/logs as OTLP log records;
/// // TELEMETRY_ENDPOINT, when set, replaces the base URL.
/// let telemetry = Telemetry::builder("my-agent", "1.2.0")
///     .endpoint("http://127.0.0.1:4318")
///     .export(Export::Otlp)
///     .build();
/// # drop(telemetry);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Export {
    /// cagent's `{"records":[...]}`, posted to the endpoint as it is
    /// (`HttpSink`). The default.
    #[default]
    Records,
    /// OTLP/HTTP JSON logs, posted to `<endpoint>/v1/logs`: the endpoint is
    /// an OpenTelemetry Collector's base URL (`OtlpSink`).
    Otlp,
}

#[cfg(feature = "http")]
impl Export {
    /// The endpoint rule of this format's sink, checked without making one:
    /// an `http` or `https` URL with a host and without credentials.
    pub(crate) fn check_endpoint(self, endpoint: &str) -> Result<(), InvalidSetting> {
        super::http::endpoint::parse_endpoint(&self.url(endpoint)).map(drop)
    }

    /// Every check [`Export::sink`] makes, without making a sink.
    pub(crate) fn check(
        self,
        endpoint: &str,
        user_agent: &str,
        api_key: Option<&str>,
        env: &Env,
    ) -> Result<(), InvalidSetting> {
        HttpSink::checked(&self.url(endpoint), user_agent, api_key, env).map(drop)
    }

    /// The URL this format posts to for `endpoint`.
    fn url(self, endpoint: &str) -> std::borrow::Cow<'_, str> {
        match self {
            Export::Records => endpoint.into(),
            Export::Otlp => super::otlp::logs_url(endpoint).into(),
        }
    }

    /// The sink that sends this format to `endpoint`, configured by
    /// `options`; its back-off is keyed by `endpoint` as configured (what
    /// `status` looks up).
    pub(crate) fn sink(
        self,
        endpoint: &str,
        options: HttpOptions<'_>,
    ) -> Result<MadeSink, InvalidSetting> {
        let backoff = Arc::new(Backoff::new(endpoint));
        let configure = |mut sink: HttpSink| {
            sink = sink.with_backoff(Arc::clone(&backoff));
            if let Some(budget) = options.time_budget {
                sink = sink.time_budget(budget);
            }
            if let Some(compression) = options.compression {
                sink = sink.compression(compression);
            }
            for (name, value) in &options.headers {
                sink = sink.checked_header(name.clone(), value.clone());
            }
            sink
        };
        let (user_agent, api_key, timeout, env) = (
            options.user_agent,
            options.api_key,
            options.timeout,
            options.env,
        );
        let (sink, sends_api_key): (Arc<dyn Sink>, bool) = match self {
            Export::Records => {
                let sink = configure(HttpSink::with_env(
                    endpoint, user_agent, api_key, timeout, env,
                )?);
                let sends_api_key = sink.sends_api_key();
                (Arc::new(sink), sends_api_key)
            }
            Export::Otlp => {
                let http =
                    HttpSink::with_env(&logs_url(endpoint), user_agent, api_key, timeout, env)?;
                let sink = OtlpSink::over(http).map_http(configure);
                let sends_api_key = sink.sends_api_key();
                (Arc::new(sink), sends_api_key)
            }
        };
        Ok(MadeSink {
            sink,
            sends_api_key,
            backoff,
        })
    }
}

/// What the recorder gives [`Export::sink`] besides the endpoint.
#[cfg(feature = "http")]
pub(crate) struct HttpOptions<'a> {
    pub(crate) user_agent: &'a str,
    pub(crate) api_key: Option<&'a str>,
    pub(crate) timeout: Duration,
    /// The process time budget; `None`: the default.
    pub(crate) time_budget: Option<Duration>,
    /// `None`: the format's default (none for records, gzip for OTLP).
    pub(crate) compression: Option<Compression>,
    /// The app's own headers, checked already.
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) env: &'a Env,
}

/// The sink [`Export::sink`] made, and what the recorder needs of it.
#[cfg(feature = "http")]
pub(crate) struct MadeSink {
    pub(crate) sink: Arc<dyn Sink>,
    /// Whether it attaches the API key (it does not over plain `http` to
    /// another host).
    pub(crate) sends_api_key: bool,
    /// Its back-off, to be attached to the config dir.
    pub(crate) backoff: Arc<Backoff>,
}
