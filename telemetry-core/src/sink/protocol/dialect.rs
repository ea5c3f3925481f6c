//! One sink's dialect: how [`HttpSink`](crate::HttpSink) encodes records
//! and reads the collector's answer, for cagent's `{"records":[...]}` and
//! for OTLP/HTTP JSON logs.

use super::RejectedCount;
use crate::delivery::backoff;
use crate::record::{self, Record};
use crate::sink::SendError;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use std::time::{Duration, SystemTime};

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
    /// A status that may be retried later (see `delivery::backoff`): after
    /// `Retry-After` when given (retried at once when it fits in the
    /// deadline), else after the back-off's own wait.
    RetryAfter(Option<Duration>, SendError),
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
            Protocol::OtlpLogs if status.is_success() => match body.rejected() {
                0 => Answer::Accepted,
                rejected => Answer::Failed(SendError::PartlyRejected { rejected }),
            },
            _ => judge_failure(status, headers),
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

/// A status other than 2xx, for either dialect: retryable or refused for
/// good, as the back-off rules say.
fn judge_failure(status: StatusCode, headers: &HeaderMap) -> Answer {
    let rejected = SendError::Rejected(status.as_u16());
    if !backoff::retryable(status.as_u16()) {
        return Answer::Failed(rejected);
    }
    let wait = headers
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| backoff::retry_after(value, SystemTime::now()));
    Answer::RetryAfter(wait, rejected)
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

    fn answer_text(answer: Answer) -> String {
        match answer {
            Answer::Accepted => "accepted".to_owned(),
            Answer::Failed(error) => format!("failed {error:?}"),
            Answer::RetryAfter(wait, error) => format!("retry {wait:?} {error:?}"),
        }
    }

    #[test]
    fn answers_are_judged_as_the_specification_says() {
        let none = HeaderMap::new();
        let judged = |status: u16, headers: &HeaderMap, body: &str| {
            let mut count = RejectedCount::default();
            count.feed(body.as_bytes());
            answer_text(Protocol::OtlpLogs.judge(
                StatusCode::from_u16(status).unwrap(),
                headers,
                &count,
            ))
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
        assert_eq!(judged(429, &none, ""), "retry None Rejected(429)");
        assert_eq!(
            judged(429, &headers("1"), ""),
            "retry Some(1s) Rejected(429)"
        );
        assert_eq!(
            judged(503, &headers("0"), ""),
            "retry Some(0ns) Rejected(503)"
        );
        assert_eq!(judged(502, &none, ""), "retry None Rejected(502)");
        assert_eq!(judged(504, &none, ""), "retry None Rejected(504)");
        assert_eq!(judged(500, &headers("1"), ""), "failed Rejected(500)");
        assert_eq!(judged(501, &none, ""), "failed Rejected(501)");
    }
}
