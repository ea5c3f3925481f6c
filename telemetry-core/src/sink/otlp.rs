//! The OTLP sink: records as OTLP log records, posted as OTLP/HTTP JSON to
//! `<endpoint>/v1/logs`, for an OpenTelemetry Collector or any OTLP backend.
//!
//! It is an [`HttpSink`] speaking another dialect: the same clients, threads,
//! timeout and stop rule, and the records mapped by [`crate::otlp`]. The
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
use super::protocol::{Answer, Protocol};
use super::{FailurePolicy, InvalidSetting, SendError, Sink};
use crate::env::Env;
use crate::Record;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use std::time::Duration;

/// The path the OTLP/HTTP specification gives the logs signal.
pub const LOGS_PATH: &str = "/v1/logs";

/// The longest `Retry-After` taken into account; a longer one can never fit
/// in a request's deadline anyway.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

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
        OtlpSink::with_env(endpoint, user_agent, api_key, timeout, &Env::process())
    }

    /// [`OtlpSink::new`], with the proxy variables read from `env`.
    pub(crate) fn with_env(
        endpoint: &str,
        user_agent: &str,
        api_key: Option<&str>,
        timeout: Duration,
        env: &Env,
    ) -> Result<OtlpSink, InvalidSetting> {
        let http = HttpSink::with_env(&logs_url(endpoint), user_agent, api_key, timeout, env)?;
        Ok(OtlpSink {
            http: http.speaking(Protocol::OtlpLogs),
        })
    }

    /// The same sink over `f(transport)` (to set the time budget).
    pub(crate) fn map_http(self, f: impl FnOnce(HttpSink) -> HttpSink) -> OtlpSink {
        OtlpSink { http: f(self.http) }
    }

    /// `true` when requests carry the `x-api-key` header.
    pub(crate) fn sends_api_key(&self) -> bool {
        self.http.sends_api_key()
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
        encode(std::slice::from_ref(record))
            .ok()
            .and_then(|body| String::from_utf8(body).ok())
            .unwrap_or_default()
    }
}

/// `<endpoint>/v1/logs`, without a doubled slash; a query or fragment of
/// the endpoint stays after the path (`https://h/?k=v` →
/// `https://h/v1/logs?k=v`).
fn logs_url(endpoint: &str) -> String {
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

/// The OTLP request body for these records.
pub(super) fn encode(records: &[Record]) -> Result<Vec<u8>, serde_json::Error> {
    let wire = records
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()?;
    serde_json::to_vec(&crate::otlp::export_logs_request(&wire))
}

/// The OTLP request for records already serialised as wire JSON (from
/// background delivery's spool); a line that is not JSON is left out.
pub(super) fn encode_serialised(records: &[String]) -> Result<Vec<u8>, serde_json::Error> {
    let wire: Vec<serde_json::Value> = records
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    serde_json::to_vec(&crate::otlp::export_logs_request(&wire))
}

/// What an OTLP/HTTP answer means (see the module's table).
pub(super) fn judge(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Answer {
    if status.is_success() {
        return match rejected_log_records(body) {
            0 => Answer::Accepted,
            rejected => Answer::Failed(SendError::PartlyRejected { rejected }),
        };
    }
    let rejected = SendError::Rejected(status.as_u16());
    let throttled = matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    );
    match retry_after(headers) {
        Some(wait) if throttled => Answer::RetryAfter(wait, rejected),
        _ => Answer::Failed(rejected),
    }
}

/// `partialSuccess.rejectedLogRecords` of an `ExportLogsServiceResponse`
/// (an int64: a string or a number in JSON); 0 when absent or unreadable.
fn rejected_log_records(body: &[u8]) -> u64 {
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(body) else {
        return 0;
    };
    let count = &answer["partialSuccess"]["rejectedLogRecords"];
    count
        .as_u64()
        .or_else(|| count.as_str().and_then(|text| text.trim().parse().ok()))
        .unwrap_or(0)
}

/// `Retry-After` as a number of seconds. The HTTP-date form is not read: a
/// date's delay depends on clocks agreeing, and the answer is then simply a
/// rejection.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let seconds = text.parse::<u64>().unwrap_or(u64::MAX);
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

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

    fn headers(retry: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(retry).unwrap());
        headers
    }

    #[test]
    fn retry_after_is_read_in_seconds_only() {
        assert_eq!(retry_after(&headers("1")), Some(Duration::from_secs(1)));
        assert_eq!(retry_after(&headers(" 0 ")), Some(Duration::ZERO));
        assert_eq!(
            retry_after(&headers("99999999999999999999999")),
            Some(MAX_RETRY_AFTER)
        );
        for bad in ["", "-1", "1.5", "soon", "Wed, 21 Oct 2015 07:28:00 GMT"] {
            assert_eq!(retry_after(&headers(bad)), None, "{bad:?}");
        }
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn answers_are_judged_as_the_specification_says() {
        let none = HeaderMap::new();
        let judged = |status: u16, headers: &HeaderMap, body: &str| match judge(
            StatusCode::from_u16(status).unwrap(),
            headers,
            body.as_bytes(),
        ) {
            Answer::Accepted => "accepted".to_owned(),
            Answer::Failed(error) => format!("failed {error:?}"),
            Answer::RetryAfter(wait, error) => format!("retry {wait:?} {error:?}"),
        };
        assert_eq!(judged(200, &none, r#"{"partialSuccess":{}}"#), "accepted");
        assert_eq!(judged(200, &none, "<html>garbage"), "accepted");
        assert_eq!(judged(204, &none, ""), "accepted");
        assert_eq!(
            judged(
                200,
                &none,
                r#"{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"secret"}}"#
            ),
            "failed PartlyRejected { rejected: 2 }"
        );
        assert_eq!(
            judged(200, &none, r#"{"partialSuccess":{"rejectedLogRecords":3}}"#),
            "failed PartlyRejected { rejected: 3 }"
        );
        assert_eq!(judged(400, &headers("1"), ""), "failed Rejected(400)");
        assert_eq!(judged(429, &none, ""), "failed Rejected(429)");
        assert_eq!(judged(429, &headers("1"), ""), "retry 1s Rejected(429)");
        assert_eq!(judged(503, &headers("0"), ""), "retry 0ns Rejected(503)");
        assert_eq!(judged(500, &headers("1"), ""), "failed Rejected(500)");
    }
}
