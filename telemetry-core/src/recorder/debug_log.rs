//! Debug mode's log: each record's exact JSON, and why anything is not sent.
//!
//! A debug file (`debug_file(path)`) is opened for appending without
//! following a symlink and without blocking, created with mode 0600 when
//! missing, and used only when the opened handle is a regular file of the
//! current user's: a planted link or another user's file is never written.
//! Otherwise the log goes to stderr, and its first line says why, by a fixed
//! reason ([`OpenError`]'s `Display`). The line does not repeat the path:
//! the user set it and knows it, and no debug line carries a path.

use crate::files::{self, OpenError, SizeLimited};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
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
    /// Opens the target; a file that cannot be opened, or is refused, falls
    /// back to stderr, and the first line says why.
    pub(crate) fn open(target: DebugTarget) -> DebugLog {
        let (out, fallback): (Box<dyn Write + Send>, Option<String>) = match target {
            // Never past `RLIMIT_FSIZE`: a line that would not fit is left
            // out (stderr may be redirected to a file, too).
            DebugTarget::Stderr => (Box::new(SizeLimited::stderr()), None),
            DebugTarget::Writer(writer) => (writer, None),
            DebugTarget::File(path) => match open_file(&path) {
                Ok(file) => (Box::new(SizeLimited::file(file)), None),
                Err(why) => (Box::new(SizeLimited::stderr()), Some(why)),
            },
        };
        let log = DebugLog {
            out: Mutex::new(out),
        };
        if let Some(why) = fallback {
            log.line(&why);
        }
        log
    }

    /// Writes one line; a write error is ignored (debugging must never fail
    /// the program).
    pub(crate) fn line(&self, text: &str) {
        // One write per line, so that a line goes whole or not at all.
        let line = format!("[telemetry] {text}\n");
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
    }
}

/// The debug file, or the line that says why stderr is used instead.
fn open_file(path: &Path) -> Result<File, String> {
    files::open_append(path).map_err(|error| {
        let why = match error {
            OpenError::Missing => "cannot be created (its dir does not exist)".to_owned(),
            other => other.to_string(),
        };
        format!("the debug log file {why}; logging to stderr instead")
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    use crate::test_support::temp_dir;

    #[test]
    fn a_debug_file_is_appended_to() {
        let dir = temp_dir("new");
        let path = dir.0.join("debug.log");
        DebugLog::open(DebugTarget::File(path.clone())).line("one");
        DebugLog::open(DebugTarget::File(path.clone())).line("two");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[telemetry] one\n[telemetry] two\n"
        );
    }

    /// (That the link's target is left untouched, and a new file is 0600:
    /// `debug_mode` in the integration tests.)
    #[test]
    fn links_fifos_and_missing_dirs_fall_back_with_their_reason() {
        let dir = temp_dir("fifo");
        let link = dir.0.join("debug.log");
        std::os::unix::fs::symlink(dir.0.join("victim"), &link).unwrap();
        assert_eq!(
            open_file(&link).err().as_deref(),
            Some("the debug log file is a symbolic link; logging to stderr instead")
        );
        let fifo = dir.0.join("fifo");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        // Opened for writing with no reader: refused, and never blocking.
        assert!(open_file(&fifo).is_err());
        let missing = dir.0.join("no-such-dir").join("debug.log");
        assert_eq!(
            open_file(&missing).err().as_deref(),
            Some("the debug log file cannot be created (its dir does not exist); logging to stderr instead")
        );
    }

    /// Only a file of ours is appended to. As root, the file is given to
    /// another uid; otherwise `/etc/passwd` (root's) is another user's.
    #[test]
    fn another_users_file_is_refused() {
        let dir = temp_dir("theirs");
        let as_root = crate::files::effective_uid() == 0;
        let theirs = if as_root {
            let path = dir.0.join("theirs.log");
            std::fs::write(&path, "theirs").unwrap();
            std::os::unix::fs::chown(&path, Some(4242), Some(4242)).unwrap();
            path
        } else {
            PathBuf::from("/etc/passwd")
        };
        let before = std::fs::read(&theirs).unwrap();
        let why = open_file(&theirs).err();
        if as_root {
            assert_eq!(
                why.as_deref(),
                Some("the debug log file belongs to another user; logging to stderr instead")
            );
        } else {
            assert!(why.is_some());
        }
        assert_eq!(std::fs::read(&theirs).unwrap(), before);
    }
}
