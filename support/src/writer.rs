//! A writer that keeps what it is given, for the debug log and the notice.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

/// A writer whose clones share one buffer: give one clone to the builder
/// (`.debug_writer(..)`, `.notice_writer(..)`) and read the other.
#[derive(Clone, Default)]
pub struct MemoryWriter(Arc<Mutex<Vec<u8>>>);

impl MemoryWriter {
    /// An empty buffer.
    pub fn new() -> MemoryWriter {
        MemoryWriter::default()
    }

    /// Everything written so far. Panics if it is not UTF-8: the toolkit
    /// writes text only.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8(bytes.clone()).expect("what the toolkit wrote is UTF-8")
    }

    /// The lines written so far.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }

    /// How many lines contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.lines()
            .iter()
            .filter(|line| line.contains(needle))
            .count()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }
}

impl Write for MemoryWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
