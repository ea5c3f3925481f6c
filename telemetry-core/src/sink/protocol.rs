//! What [`HttpSink`](super::HttpSink) puts on the wire and how it reads the
//! answer: cagent's `{"records":[...]}`, or an OTLP/HTTP JSON logs request.
//! The transport (clients, threads, timeouts, the stop rule) is the same.

use super::otlp;
use super::SendError;
use crate::record::{Body, Record};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use std::time::Duration;

/// The dialect of one sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Protocol {
    /// `{"records":[...]}`, cagent's wire format: any 2xx accepts.
    Records,
    /// An OTLP/HTTP JSON `ExportLogsServiceRequest` (see `otlp.rs`).
    OtlpLogs,
}

/// What an answer means.
pub(super) enum Answer {
    Accepted,
    Failed(SendError),
    /// Retry after this delay (`Retry-After`), if it fits in the deadline;
    /// otherwise the error stands.
    RetryAfter(Duration, SendError),
}

impl Protocol {
    /// The request body for these records.
    pub(super) fn encode(self, records: &[Record]) -> Result<Vec<u8>, SendError> {
        let unencodable = |_| SendError::Transport("the records could not be encoded".into());
        match self {
            Protocol::Records => {
                // Room for a typical record, so that the body is not regrown.
                let mut body = Vec::with_capacity(1024 * records.len().max(1));
                serde_json::to_writer(&mut body, &Body(records)).map_err(unencodable)?;
                Ok(body)
            }
            Protocol::OtlpLogs => otlp::encode(records).map_err(unencodable),
        }
    }

    /// The request body for records already serialised as wire JSON (the
    /// spool's lines, handed over by background delivery).
    pub(super) fn encode_serialised(self, records: &[String]) -> Result<Vec<u8>, SendError> {
        match self {
            Protocol::Records => Ok(crate::background::batch_body(records)),
            Protocol::OtlpLogs => otlp::encode_serialised(records)
                .map_err(|_| SendError::Transport("the records could not be encoded".into())),
        }
    }

    /// Whether the answer's body must be kept (not just drained) for
    /// [`Protocol::judge`].
    pub(super) fn reads_answer(self) -> bool {
        self == Protocol::OtlpLogs
    }

    /// What the collector's answer means.
    pub(super) fn judge(self, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Answer {
        match self {
            Protocol::Records if status.is_success() => Answer::Accepted,
            Protocol::Records => Answer::Failed(SendError::Rejected(status.as_u16())),
            Protocol::OtlpLogs => otlp::judge(status, headers, body),
        }
    }
}
