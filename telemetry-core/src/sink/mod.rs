//! Where records go: the [`Sink`] trait, what a sink does after a failure
//! ([`FailurePolicy`]), and the implementations: [`MemorySink`], and
//! `HttpSink` and `OtlpSink` (the `http` feature, on by default).

mod compression;
mod export;
pub(crate) mod history;
#[cfg(feature = "http")]
pub(crate) mod http;
mod memory;
#[cfg(feature = "http")]
mod otlp;
pub(crate) mod protocol;

pub use compression::Compression;
pub use export::Export;
#[cfg(feature = "http")]
pub(crate) use export::HttpOptions;
#[cfg(feature = "http")]
pub use http::{HttpSink, InvalidSetting};
pub use memory::MemorySink;
#[cfg(feature = "http")]
pub use otlp::{OtlpSink, LOGS_PATH};

use crate::Record;
use std::fmt;
use std::time::Duration;

/// The default per-request timeout of the HTTP sink.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// Receives records. With inline delivery the recorder calls [`Sink::send`]
/// from the thread that recorded the event, one record a call, and waits
/// for it to return; background delivery hands batches of serialised
/// records to [`Sink::send_serialised`] from its sender thread.
///
/// Implement it to send records elsewhere; it must not panic, and should
/// bound the time it takes.
pub trait Sink: Send + Sync + 'static {
    /// Delivers the records (inline delivery passes one at a time) and
    /// returns once they were accepted or the attempt failed.
    ///
    /// # Errors
    ///
    /// Why the records were not delivered: see [`SendError`].
    fn send(&self, records: &[Record]) -> Result<(), SendError>;

    /// The record as this sink puts it on the wire, for debug mode's line
    /// (one line of JSON). The default is the wire record.
    fn as_sent(&self, record: &Record) -> String {
        record.to_json()
    }

    /// Delivers records already serialised, each its wire JSON (as
    /// [`Record::to_json`] gives it), the way background delivery hands
    /// them over from the spool: the sink encodes its own body from them.
    /// Called only when [`sends_serialised`](Sink::sends_serialised) is
    /// `true`, from the background sender thread, one batch at a time.
    ///
    /// The default answers an error: a sink that does not override it
    /// (such as [`MemorySink`]) is always used inline.
    ///
    /// # Errors
    ///
    /// Why the records were not delivered: see [`SendError`].
    fn send_serialised(&self, records: &[String]) -> Result<(), SendError> {
        let _ = records;
        Err(SendError::Transport(
            "this sink cannot send serialised records".into(),
        ))
    }

    /// `true` when the sink implements
    /// [`send_serialised`](Sink::send_serialised), so that background
    /// delivery can use it. The default: `false`, and a client asked for
    /// background delivery delivers inline (its debug log says so).
    fn sends_serialised(&self) -> bool {
        false
    }

    /// What this sink does after a failed send, so that the debug log says
    /// the truth about later records. The default: it keeps going.
    fn failure_policy(&self) -> FailurePolicy {
        FailurePolicy::KeepGoing
    }
}

/// What a [`Sink`] does after a failed send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FailurePolicy {
    /// Every send is attempted, whatever failed before.
    #[default]
    KeepGoing,
    /// After a [`SendError::Transport`] failure the sink attempts nothing
    /// more for the rest of the process, and answers
    /// [`SendError::Stopped`]: an offline machine pays at most one timeout.
    /// The HTTP sink's policy.
    StopAfterTransportFailure,
}

/// Why a [`Sink::send`] did not deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The collector answered with a status other than 2xx. It is reachable,
    /// so delivery goes on.
    Rejected(u16),
    /// The collector could not be reached (refused, timed out, DNS, broken
    /// connection); the string names the failure, without the endpoint or
    /// any header. Whether later sends are attempted is the sink's
    /// [`FailurePolicy`].
    Transport(String),
    /// An earlier transport failure stopped delivery
    /// ([`FailurePolicy::StopAfterTransportFailure`]); nothing was attempted.
    Stopped,
    /// The collector accepted the request but rejected this many of its
    /// records (an OTLP partial success). Delivery goes on.
    PartlyRejected {
        /// How many records the collector rejected.
        rejected: u64,
    },
    /// The process's time budget for waiting on the collector (this long)
    /// is spent: delivery stopped for the rest of the process.
    BudgetSpent(Duration),
    /// The collector asked to wait (a 429 or 503, in this process or an
    /// earlier one, or it could not be reached): nothing was attempted,
    /// no connection opened, before this time (milliseconds since the
    /// epoch). See the back-off rules in the crate docs.
    Backoff {
        /// The earliest time to try again, epoch milliseconds.
        until_ms: u64,
    },
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Rejected(status) => write!(f, "the collector answered HTTP {status}"),
            SendError::Transport(failure) => write!(f, "the collector is unreachable: {failure}"),
            SendError::Stopped => f.write_str("delivery stopped after an earlier failure"),
            SendError::PartlyRejected { rejected } => {
                write!(f, "the collector rejected {rejected} of the records")
            }
            SendError::BudgetSpent(budget) => write!(
                f,
                "telemetry has waited its time budget for this process ({} ms) on the collector",
                budget.as_millis()
            ),
            SendError::Backoff { until_ms } => write!(
                f,
                "the collector asked to wait until {}",
                crate::delivery::backoff::format_utc(*until_ms)
            ),
        }
    }
}

impl std::error::Error for SendError {}
