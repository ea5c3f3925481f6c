//! The one hook of the local history ([`files::history`](crate::files::history)):
//! a sink that hands records to the real one and, once they were accepted,
//! appends them as they went on the wire. Both ways out pass it: inline
//! [`Sink::send`] and background delivery's [`Sink::send_serialised`]. An
//! OTLP sink's records are kept as the wire records it encodes.

use super::{FailurePolicy, SendError, Sink};
use crate::files::history;
use crate::Record;
use std::path::PathBuf;
use std::sync::Arc;

/// Where the history is written, and the host records go to.
#[derive(Debug, Clone)]
pub(crate) struct History {
    /// The checked config dir.
    pub(crate) dir: PathBuf,
    /// The endpoint's host; `None` with a sink the app gave.
    pub(crate) host: Option<String>,
}

impl History {
    /// Appends records (each its wire JSON); a problem is handed to `note`
    /// (the debug log), never to the caller.
    pub(crate) fn keep(&self, records: &[String], note: &dyn Fn(&str)) {
        self.append(self.host.as_deref(), records, note);
    }

    /// Appends records kept at the `local` level, sent nowhere (no host).
    pub(crate) fn keep_local(&self, records: &[String], note: &dyn Fn(&str)) {
        self.append(None, records, note);
    }

    fn append(&self, host: Option<&str>, records: &[String], note: &dyn Fn(&str)) {
        if let Err(problem) = history::append(&self.dir, host, records) {
            note(&format!("not kept in the local history: {problem}"));
        }
    }
}

/// Where a problem keeping the history is said (the debug log).
pub(crate) type NoteLine = Box<dyn Fn(&str) + Send + Sync>;

/// The app's sink, with the history kept of what it accepted.
pub(crate) struct Kept {
    pub(crate) inner: Arc<dyn Sink>,
    pub(crate) history: History,
    /// Where a history problem is said (the debug log), if anywhere.
    pub(crate) note: Option<NoteLine>,
}

impl Kept {
    fn keep_if_sent(&self, result: &Result<(), SendError>, records: &[String]) {
        // A partly rejected batch went on the wire and reached the collector.
        if matches!(result, Ok(()) | Err(SendError::PartlyRejected { .. })) {
            let note = |line: &str| {
                if let Some(note) = &self.note {
                    note(line);
                }
            };
            self.history.keep(records, &note);
        }
    }
}

impl Sink for Kept {
    fn send(&self, records: &[Record]) -> Result<(), SendError> {
        let result = self.inner.send(records);
        if matches!(result, Ok(()) | Err(SendError::PartlyRejected { .. })) {
            let json: Vec<String> = records.iter().map(Record::to_json).collect();
            self.keep_if_sent(&result, &json);
        }
        result
    }

    fn as_sent(&self, record: &Record) -> String {
        self.inner.as_sent(record)
    }

    fn send_serialised(&self, records: &[String]) -> Result<(), SendError> {
        let result = self.inner.send_serialised(records);
        self.keep_if_sent(&result, records);
        result
    }

    fn sends_serialised(&self) -> bool {
        self.inner.sends_serialised()
    }

    fn failure_policy(&self) -> FailurePolicy {
        self.inner.failure_policy()
    }
}
