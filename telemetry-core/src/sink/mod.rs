//! Where records go: the [`Sink`] trait and its two implementations.

mod http;
mod memory;

pub use http::{HttpSink, InvalidSetting, DEFAULT_TIMEOUT};
pub use memory::MemorySink;

use crate::Record;
use std::fmt;

/// Receives records. The recorder calls [`Sink::send`] inline, from the
/// thread that recorded the event, and waits for it to return.
///
/// Implement it to send records elsewhere; it must not panic, and should
/// bound the time it takes.
pub trait Sink: Send + Sync + 'static {
    /// Delivers the records (one per call today; several in a future batched
    /// mode) and returns once they were accepted or the attempt failed.
    fn send(&self, records: &[Record]) -> Result<(), SendError>;
}

/// Why a [`Sink::send`] did not deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The collector answered with a status other than 2xx. It is reachable,
    /// so delivery goes on.
    Rejected(u16),
    /// The collector could not be reached (refused, timed out, DNS, broken
    /// connection). The sink stops delivering for the rest of the process;
    /// the string names the failure, without the endpoint or any header.
    Transport(String),
    /// An earlier transport failure stopped delivery; nothing was attempted.
    Stopped,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Rejected(status) => write!(f, "the collector answered HTTP {status}"),
            SendError::Transport(failure) => write!(f, "the collector is unreachable: {failure}"),
            SendError::Stopped => f.write_str("delivery stopped after an earlier failure"),
        }
    }
}

impl std::error::Error for SendError {}
