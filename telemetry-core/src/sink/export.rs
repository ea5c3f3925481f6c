//! The choice of wire format for a client built with an endpoint.

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
pub enum Export {
    /// cagent's `{"records":[...]}`, posted to the endpoint as it is
    /// (`HttpSink`). The default.
    #[default]
    Records,
    /// OTLP/HTTP JSON logs, posted to `<endpoint>/v1/logs`: the endpoint is
    /// an OpenTelemetry Collector's base URL (`OtlpSink`).
    Otlp,
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

#[cfg(feature = "http")]
impl Export {
    /// The sink that sends this format to `endpoint`, configured by
    /// `options`.
    pub(crate) fn sink(
        self,
        endpoint: &str,
        options: HttpOptions<'_>,
    ) -> Result<MadeSink, InvalidSetting> {
        let configure = |mut sink: HttpSink| {
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
        Ok(match self {
            Export::Records => {
                let sink = configure(HttpSink::with_env(
                    endpoint, user_agent, api_key, timeout, env,
                )?);
                MadeSink {
                    sends_api_key: sink.sends_api_key(),
                    backoff: sink.backoff(),
                    sink: Arc::new(sink),
                }
            }
            Export::Otlp => {
                let sink = OtlpSink::with_env(endpoint, user_agent, api_key, timeout, env)?
                    .map_http(configure);
                MadeSink {
                    sends_api_key: sink.sends_api_key(),
                    backoff: sink.backoff(),
                    sink: Arc::new(sink),
                }
            }
        })
    }
}
