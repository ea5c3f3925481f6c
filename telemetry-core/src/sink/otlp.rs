//! The OTLP sink: records as OTLP log records, posted as OTLP/HTTP JSON to
//! `<endpoint>/v1/logs`, for an OpenTelemetry Collector or any OTLP backend.
//!
//! It is an [`HttpSink`] speaking another dialect: the same clients, threads,
//! timeout and stop rule, and the records mapped by [`crate::sink::protocol::otlp`]. The
//! answer is read as the OTLP/HTTP specification says:
//!
//! | answer | outcome |
//! |---|---|
//! | 2xx | accepted; a `partialSuccess` with `rejectedLogRecords` > 0 is [`SendError::PartlyRejected`] (the count only: the collector's message is never read into anything) |
//! | 429 or 503 with `Retry-After: <seconds>` | retried once after that delay when it ends before the request's deadline; else [`SendError::Rejected`] |
//! | any other status | [`SendError::Rejected`]: delivery goes on |
//! | no answer, refused, timed out | [`SendError::Transport`]: delivery stops, as for the default sink |
//!
//! An answer body that is not JSON (a proxy's HTML page, garbage) is ignored:
//! the status decides.

use super::http::HttpSink;
use super::protocol::Protocol;
use super::{Compression, FailurePolicy, InvalidSetting, SendError, Sink};
use crate::Record;
use std::time::Duration;

/// The path the OTLP/HTTP specification gives the logs signal.
pub const LOGS_PATH: &str = "/v1/logs";

/// Sends each record as one OTLP log record, in an OTLP/HTTP JSON
/// `ExportLogsServiceRequest` posted to `<endpoint>/v1/logs`.
///
/// Usually chosen with [`TelemetryBuilder::export`](crate::TelemetryBuilder::export)
/// and [`Export::Otlp`](crate::Export::Otlp), which keeps the endpoint
/// rules (`TELEMETRY_ENDPOINT`); or built here and given to
/// [`TelemetryBuilder::sink`](crate::TelemetryBuilder::sink).
///
/// ```
/// use std::time::Duration;
/// use telemetry_core::{OtlpSink, Telemetry};
///
/// let sink = OtlpSink::new("http://127.0.0.1:4318", "my-agent/1.2.0", None,
///     Duration::from_secs(2)).unwrap();
/// let telemetry = Telemetry::builder("my-agent", "1.2.0").sink(sink).build();
/// # drop(telemetry);
/// ```
#[derive(Clone, Debug)]
pub struct OtlpSink {
    http: HttpSink,
}

impl OtlpSink {
    /// A sink for the OTLP/HTTP base URL `endpoint` (for a collector,
    /// `http://host:4318`): records go to `<endpoint>/v1/logs` (an endpoint
    /// that already ends in `/v1/logs` is used as it is). `User-Agent`,
    /// `x-api-key` and the timeout as for [`HttpSink::new`].
    ///
    /// # Errors
    ///
    /// [`InvalidSetting`] when the endpoint is not an `http` or `https` URL
    /// with a host, or carries a user name or password; when the user agent
    /// or key cannot be a header value; or when a proxy variable names no
    /// usable `http` or `https` proxy.
    pub fn new(
        endpoint: &str,
        user_agent: &str,
        api_key: Option<&str>,
        timeout: Duration,
    ) -> Result<OtlpSink, InvalidSetting> {
        HttpSink::new(&logs_url(endpoint), user_agent, api_key, timeout).map(OtlpSink::over)
    }

    /// An HTTP sink made for `<endpoint>/v1/logs` (see [`logs_url`]),
    /// speaking OTLP, gzip by default.
    pub(crate) fn over(http: HttpSink) -> OtlpSink {
        OtlpSink {
            http: http
                .speaking(Protocol::OtlpLogs)
                .compression(Compression::Gzip),
        }
    }

    /// The same sink over `f(transport)` (to set the time budget).
    pub(crate) fn map_http(self, f: impl FnOnce(HttpSink) -> HttpSink) -> OtlpSink {
        OtlpSink { http: f(self.http) }
    }

    /// `true` when requests carry the `x-api-key` header.
    pub(crate) fn sends_api_key(&self) -> bool {
        self.http.sends_api_key()
    }

    /// Compresses request bodies (default [`Compression::Gzip`]; see
    /// [`HttpSink::compression`]).
    #[must_use]
    pub fn compression(self, compression: Compression) -> OtlpSink {
        self.map_http(|http| http.compression(compression))
    }

    /// Adds a header to every request (see [`HttpSink::header`]).
    ///
    /// # Errors
    ///
    /// As for [`HttpSink::header`].
    pub fn header(self, name: &str, value: &str) -> Result<OtlpSink, InvalidSetting> {
        Ok(OtlpSink {
            http: self.http.header(name, value)?,
        })
    }

    /// `true` once a transport failure has stopped delivery.
    #[must_use]
    pub fn is_stopped(&self) -> bool {
        self.http.is_stopped()
    }
}

impl Sink for OtlpSink {
    fn send(&self, records: &[Record]) -> Result<(), SendError> {
        self.http.send(records)
    }

    /// One OTLP request for the batch (background delivery).
    fn send_serialised(&self, records: &[String]) -> Result<(), SendError> {
        self.http.send_serialised(records)
    }

    fn sends_serialised(&self) -> bool {
        true
    }

    fn failure_policy(&self) -> FailurePolicy {
        self.http.failure_policy()
    }

    /// The OTLP request this record alone is sent as.
    fn as_sent(&self, record: &Record) -> String {
        Protocol::OtlpLogs
            .encode(std::slice::from_ref(record))
            .ok()
            .and_then(|body| String::from_utf8(body).ok())
            .unwrap_or_default()
    }
}

/// `<endpoint>/v1/logs`, without a doubled slash; a query or fragment of
/// the endpoint stays after the path (`https://h/?k=v` →
/// `https://h/v1/logs?k=v`).
pub(super) fn logs_url(endpoint: &str) -> String {
    let endpoint = endpoint.trim();
    let split = endpoint.find(['?', '#']).unwrap_or(endpoint.len());
    let (base, rest) = endpoint.split_at(split);
    let base = base.trim_end_matches('/');
    if base.ends_with(LOGS_PATH) {
        format!("{base}{rest}")
    } else {
        format!("{base}{LOGS_PATH}{rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logs_path_is_appended_once() {
        assert_eq!(
            logs_url("http://127.0.0.1:4318"),
            "http://127.0.0.1:4318/v1/logs"
        );
        assert_eq!(
            logs_url("http://127.0.0.1:4318/"),
            "http://127.0.0.1:4318/v1/logs"
        );
        assert_eq!(
            logs_url("https://otel.example/prefix/"),
            "https://otel.example/prefix/v1/logs"
        );
        assert_eq!(logs_url("http://h:4318/v1/logs"), "http://h:4318/v1/logs");
        // Regression: the path went into the query.
        assert_eq!(logs_url("https://h/?token=x"), "https://h/v1/logs?token=x");
        assert_eq!(
            logs_url("https://h/v1/logs/?token=x#f"),
            "https://h/v1/logs?token=x#f"
        );
        assert!(OtlpSink::new("not a url", "a/1", None, Duration::ZERO).is_err());
    }
}
