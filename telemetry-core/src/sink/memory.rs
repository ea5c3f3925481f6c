//! A sink that keeps records in memory, for tests.

use super::{SendError, Sink};
use crate::Record;
use std::sync::{Arc, Mutex, PoisonError};

/// Keeps every record in memory. Clones share the same storage, so a test
/// keeps one clone and gives the other to the builder:
///
/// ```
/// use telemetry_core::{MemorySink, Telemetry};
///
/// let sink = MemorySink::new();
/// let telemetry = Telemetry::isolated("my-cli", "1.0.0")
///     .sink(sink.clone())
///     .flags(["--model"])
///     .build();
/// telemetry.track_command("run", ["--model=gpt-4", "secret prompt"]);
///
/// let record = serde_json::to_value(&sink.records()[0]).unwrap();
/// assert_eq!(record["event"], "command");
/// assert_eq!(record["properties"]["args"], serde_json::json!(["--model"]));
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemorySink {
    records: Arc<Mutex<Vec<Record>>>,
}

impl MemorySink {
    /// An empty sink.
    #[must_use]
    pub fn new() -> MemorySink {
        MemorySink::default()
    }

    /// Every record received so far, oldest first. Each serialises (with
    /// serde, or [`Record::to_json`]) to exactly its wire record.
    #[must_use]
    pub fn records(&self) -> Vec<Record> {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Removes and returns every record received so far.
    pub fn take(&self) -> Vec<Record> {
        std::mem::take(&mut *self.records.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Sink for MemorySink {
    fn send(&self, records: &[Record]) -> Result<(), SendError> {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(records);
        Ok(())
    }
}
