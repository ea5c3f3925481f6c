//! The choice of wire format for a client built with an endpoint.

#[cfg(feature = "http")]
use super::{HttpSink, InvalidSetting, OtlpSink, Sink};
#[cfg(feature = "http")]
use crate::env::Env;
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

    /// The sink that sends this format to `endpoint`, with its proxy from
    /// `env` and the process time budget (`None`: the default), and whether it attaches the API key (it does not over plain
    /// `http` to another host).
    pub(crate) fn sink(
        self,
        endpoint: &str,
        user_agent: &str,
        api_key: Option<&str>,
        timeout: Duration,
        time_budget: Option<Duration>,
        env: &Env,
    ) -> Result<(Arc<dyn Sink>, bool), InvalidSetting> {
        let budgeted = |sink: HttpSink| match time_budget {
            Some(budget) => sink.time_budget(budget),
            None => sink,
        };
        Ok(match self {
            Export::Records => {
                let sink = budgeted(HttpSink::with_env(
                    endpoint, user_agent, api_key, timeout, env,
                )?);
                let sends_api_key = sink.sends_api_key();
                (Arc::new(sink), sends_api_key)
            }
            Export::Otlp => {
                let sink = OtlpSink::with_env(endpoint, user_agent, api_key, timeout, env)?
                    .map_http(budgeted);
                let sends_api_key = sink.sends_api_key();
                (Arc::new(sink), sends_api_key)
            }
        })
    }
}
