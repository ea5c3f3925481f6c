//! One sink's dialect: how [`HttpSink`](crate::HttpSink) encodes records
//! and reads the collector's answer, for cagent's `{"records":[...]}` and
//! for OTLP/HTTP JSON logs.

use super::RejectedCount;
use crate::record::{self, Record};
use crate::sink::SendError;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use std::time::Duration;

/// The longest `Retry-After` taken into account; a longer one can never fit
/// in a request's deadline anyway.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The dialect of one sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::sink) enum Protocol {
    /// `{"records":[...]}`, cagent's wire format: any 2xx accepts.
    Records,
    /// An OTLP/HTTP JSON `ExportLogsServiceRequest` (see `otlp.rs`).
    OtlpLogs,
}

/// What an answer means.
pub(in crate::sink) enum Answer {
    Accepted,
    Failed(SendError),
    /// Retry after this delay (`Retry-After`), if it fits in the deadline;
    /// otherwise the error stands.
    RetryAfter(Duration, SendError),
}

impl Protocol {
    /// The request body for these records.
    pub(in crate::sink) fn encode(self, records: &[Record]) -> Result<Vec<u8>, SendError> {
        let unencodable = |_| SendError::Transport("the records could not be encoded".into());
        match self {
            Protocol::Records => record::body(records).map_err(unencodable),
            Protocol::OtlpLogs => encode_otlp(records).map_err(unencodable),
        }
    }

    /// The request body for records already serialised as wire JSON (the
    /// spool's lines, handed over by background delivery).
    pub(in crate::sink) fn encode_serialised(
        self,
        records: &[String],
    ) -> Result<Vec<u8>, SendError> {
        match self {
            Protocol::Records => Ok(record::batch_body(records)),
            Protocol::OtlpLogs => encode_otlp_serialised(records)
                .map_err(|_| SendError::Transport("the records could not be encoded".into())),
        }
    }

    /// Whether the answer's body must be kept (not just drained) for
    /// [`Protocol::judge`].
    pub(in crate::sink) fn reads_answer(self) -> bool {
        self == Protocol::OtlpLogs
    }

    /// What the collector's answer means; `body` is what was read of its
    /// body (for OTLP, the rejected count of a partial success).
    pub(in crate::sink) fn judge(
        self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &RejectedCount,
    ) -> Answer {
        match self {
            Protocol::Records if status.is_success() => Answer::Accepted,
            Protocol::Records => Answer::Failed(SendError::Rejected(status.as_u16())),
            Protocol::OtlpLogs => judge_otlp(status, headers, body.rejected()),
        }
    }
}

/// The OTLP request body for these records.
fn encode_otlp(records: &[Record]) -> Result<Vec<u8>, serde_json::Error> {
    let wire = records
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()?;
    serde_json::to_vec(&crate::sink::protocol::otlp::export_logs_request(&wire))
}

/// The OTLP request for records already serialised as wire JSON (from
/// background delivery's spool); a line that is not JSON is left out.
fn encode_otlp_serialised(records: &[String]) -> Result<Vec<u8>, serde_json::Error> {
    let wire: Vec<serde_json::Value> = records
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    serde_json::to_vec(&crate::sink::protocol::otlp::export_logs_request(&wire))
}

/// What an OTLP/HTTP answer means (see the table of
/// [`OtlpSink`](super::OtlpSink)).
fn judge_otlp(status: StatusCode, headers: &HeaderMap, rejected: u64) -> Answer {
    if status.is_success() {
        return match rejected {
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
        let judged = |status: u16, headers: &HeaderMap, body: &str| match judge_otlp(
            StatusCode::from_u16(status).unwrap(),
            headers,
            {
                let mut count = RejectedCount::default();
                count.feed(body.as_bytes());
                count.rejected()
            },
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
