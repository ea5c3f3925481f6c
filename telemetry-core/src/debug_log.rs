//! Debug mode's log: each record's exact JSON, and why anything is not sent.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

/// Where debug lines go.
pub(crate) enum DebugTarget {
    Stderr,
    File(PathBuf),
    Writer(Box<dyn Write + Send>),
}

/// Writes lines prefixed `[telemetry] `. Never prints the API key: nothing
/// but records and fixed sentences ever reaches it.
pub(crate) struct DebugLog {
    out: Mutex<Box<dyn Write + Send>>,
}

impl DebugLog {
    /// Opens the target; a file that cannot be opened falls back to stderr,
    /// and the first line says so.
    pub(crate) fn open(target: DebugTarget) -> DebugLog {
        let (out, fallback): (Box<dyn Write + Send>, bool) = match target {
            DebugTarget::Stderr => (Box::new(std::io::stderr()), false),
            DebugTarget::Writer(writer) => (writer, false),
            DebugTarget::File(path) => {
                match OpenOptions::new().create(true).append(true).open(path) {
                    Ok(file) => (Box::new(file), false),
                    Err(_) => (Box::new(std::io::stderr()), true),
                }
            }
        };
        let log = DebugLog {
            out: Mutex::new(out),
        };
        if fallback {
            log.line("the debug log file could not be opened; logging to stderr");
        }
        log
    }

    /// Writes one line; a write error is ignored (debugging must never fail
    /// the program).
    pub(crate) fn line(&self, text: &str) {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = writeln!(out, "[telemetry] {text}");
        let _ = out.flush();
    }
}
