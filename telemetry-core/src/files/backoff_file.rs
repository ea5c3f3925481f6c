//! The back-off file: `<config_dir>/retry-after`, mode 0600, one line
//! `<until_ms> <failures> <endpoint_key>`: the earliest time (epoch ms) to
//! try the collector again, how many failures in a row led to it, and
//! which endpoint it is about (a hash, never the URL). The rules that fill
//! it are in [`crate::delivery::backoff`].
//!
//! Written to a temporary file of this process, then renamed over the old
//! one, so that a reader never sees half a line; read through
//! [`open_file`](super::open_file) (no link followed, ours, private). A
//! file that is missing, unreadable or malformed means "no back-off".

// Without `http` nothing is sent, so nothing backs off or is compressed.
#![cfg_attr(not(feature = "http"), allow(dead_code))]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The file's name in the config dir.
pub(crate) const BACKOFF_FILE: &str = "retry-after";

/// Most bytes read: the line is at most about 60.
const MAX_LEN: u64 = 128;

/// What the file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Saved {
    /// The earliest time to try again, epoch milliseconds.
    pub(crate) until_ms: u64,
    /// Failures in a row without a `Retry-After` (the exponent).
    pub(crate) failures: u32,
    /// Which endpoint it is about.
    pub(crate) endpoint_key: u64,
}

/// The back-off file of `config_dir`.
pub(crate) fn path(config_dir: &Path) -> PathBuf {
    config_dir.join(BACKOFF_FILE)
}

/// Reads the file; `None` when it is missing, refused or malformed.
pub(crate) fn read(config_dir: &Path) -> Option<Saved> {
    let file = super::open_file(&path(config_dir)).ok()?;
    let mut text = String::new();
    file.take(MAX_LEN).read_to_string(&mut text).ok()?;
    let mut words = text.split_ascii_whitespace();
    let saved = Saved {
        until_ms: words.next()?.parse().ok()?,
        failures: words.next()?.parse().ok()?,
        endpoint_key: u64::from_str_radix(words.next()?, 16).ok()?,
    };
    words.next().is_none().then_some(saved)
}

/// Replaces the file with `saved`; a failure is ignored (the back-off then
/// lasts for this process only).
pub(crate) fn write(config_dir: &Path, saved: Saved) {
    // One short line; under a file-size limit too small for it, nothing
    // is written (the wait then holds for this process only).
    if super::limits::fsize_room(0) < 128 {
        return;
    }
    let temp = config_dir.join(format!("{BACKOFF_FILE}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let written = super::create_new(&temp).and_then(|mut file| {
        writeln!(
            file,
            "{} {} {:016x}",
            saved.until_ms, saved.failures, saved.endpoint_key
        )
    });
    if written.is_err() || std::fs::rename(&temp, path(config_dir)).is_err() {
        let _ = std::fs::remove_file(&temp);
    }
}

/// Removes the file (the collector accepted a request again).
pub(crate) fn remove(config_dir: &Path) {
    let _ = std::fs::remove_file(path(config_dir));
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn written_private_and_read_back() {
        let dir = crate::test_support::temp_dir("backoff-file");
        assert_eq!(read(&dir), None);
        let saved = Saved {
            until_ms: 1_800_000_000_000,
            failures: 3,
            endpoint_key: 0xdead_beef,
        };
        write(&dir, saved);
        assert_eq!(read(&dir), Some(saved));
        let mode = std::fs::metadata(path(&dir)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(path(&dir), "garbage here\n").unwrap();
        assert_eq!(read(&dir), None);
        remove(&dir);
        assert!(!path(&dir).exists());
    }
}
