//! The choice of wire format for a client built with an endpoint.

#[cfg(feature = "http")]
use super::{HttpSink, InvalidSetting, OtlpSink, Sink};
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

#[cfg(feature = "http")]
impl Export {
    /// The sink that sends this format to `endpoint`.
    pub(crate) fn sink(
        self,
        endpoint: &str,
        user_agent: &str,
        api_key: Option<&str>,
        timeout: Duration,
    ) -> Result<Arc<dyn Sink>, InvalidSetting> {
        Ok(match self {
            Export::Records => Arc::new(HttpSink::new(endpoint, user_agent, api_key, timeout)?),
            Export::Otlp => Arc::new(OtlpSink::new(endpoint, user_agent, api_key, timeout)?),
        })
    }
}
