//! The process's resource limits as they bear on the files the toolkit
//! writes: never past `RLIMIT_FSIZE`, and a shortage of descriptors or disk
//! costs records, never the app.
//!
//! A write that would start at or past `RLIMIT_FSIZE` does not fail
//! politely: the kernel sends `SIGXFSZ`, whose default action ends the
//! process (exit 153). So every file the toolkit writes — the spool, its
//! temporaries, the debug file, and whatever later joins them — asks
//! [`fsize_room`] before a write and leaves out what would not fit (the
//! caller counts it as dropped). The limit is read with `getrlimit` at each
//! call: a few hundred nanoseconds, and a limit lowered at run time counts.

use std::fs::File;
use std::io::{self, Write};

/// Bytes that may still be written to a file now `current_len` bytes long
/// without passing the process's `RLIMIT_FSIZE` (soft limit): `u64::MAX`
/// when there is no limit (or no such limit on this platform), 0 when the
/// file is already at or past it.
pub(crate) fn fsize_room(current_len: u64) -> u64 {
    fsize_limit().map_or(u64::MAX, |limit| limit.saturating_sub(current_len))
}

/// The soft `RLIMIT_FSIZE` in bytes; `None` when unlimited.
#[cfg(unix)]
fn fsize_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit` into memory we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    // `rlim_t` is `u64` on Linux and macOS, narrower or signed elsewhere.
    #[allow(clippy::useless_conversion)]
    Some(u64::try_from(limit.rlim_cur).unwrap_or(u64::MAX))
}

#[cfg(not(unix))]
fn fsize_limit() -> Option<u64> {
    None
}

/// Whether an I/O error is a shortage of the machine's or the process's
/// resources — descriptors (`EMFILE`, `ENFILE`), disk space or quota
/// (`ENOSPC`, `EDQUOT`), a file too large (`EFBIG`) — rather than something
/// wrong with the file: the records it concerns are dropped and counted,
/// and the app goes on.
pub(crate) fn is_shortage(error: &io::Error) -> bool {
    #[cfg(unix)]
    if matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOSPC | libc::EDQUOT | libc::EFBIG)
    ) {
        return true;
    }
    matches!(
        error.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::FileTooLarge
    )
}

/// A writer that never writes past `RLIMIT_FSIZE`: a write that would not
/// fit whole is left out (and reported as written, so that a `writeln!`
/// does not turn it into an error). For a file the toolkit appends lines
/// to (the debug file); stderr is wrapped too, since it may be redirected
/// to a file.
pub(crate) struct SizeLimited<W> {
    inner: W,
    /// The descriptor whose length counts; `None`: not a regular file, no
    /// limit applies (a terminal, a pipe).
    #[cfg(unix)]
    fd: Option<std::os::unix::io::RawFd>,
}

impl SizeLimited<File> {
    /// Appends to `file` within the limit.
    pub(crate) fn file(file: File) -> SizeLimited<File> {
        #[cfg(unix)]
        let fd = Some(std::os::unix::io::AsRawFd::as_raw_fd(&file));
        SizeLimited {
            inner: file,
            #[cfg(unix)]
            fd,
        }
    }
}

impl SizeLimited<io::Stderr> {
    /// Writes to stderr within the limit when it is a file.
    pub(crate) fn stderr() -> SizeLimited<io::Stderr> {
        SizeLimited {
            inner: io::stderr(),
            #[cfg(unix)]
            fd: Some(2),
        }
    }
}

impl<W> SizeLimited<W> {
    /// Whether `len` more bytes fit in the file now.
    fn fits(&self, len: usize) -> bool {
        #[cfg(unix)]
        {
            let Some(fd) = self.fd else { return true };
            // SAFETY: an all-zero `stat` is a valid value of the C struct.
            let mut stat: libc::stat = unsafe { std::mem::zeroed() };
            // SAFETY: `fstat` fills a `stat` we own; a closed descriptor is
            // an error, not undefined behaviour.
            if unsafe { libc::fstat(fd, &mut stat) } != 0 {
                return true;
            }
            if stat.st_mode & libc::S_IFMT != libc::S_IFREG {
                return true;
            }
            let current = u64::try_from(stat.st_size).unwrap_or(0);
            fsize_room(current) >= len as u64
        }
        #[cfg(not(unix))]
        {
            let _ = len;
            true
        }
    }
}

impl<W: Write> Write for SizeLimited<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if !self.fits(buf.len()) {
            return Ok(buf.len());
        }
        self.inner.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        // Checked once for the whole buffer: a line goes whole or not at all.
        if !self.fits(buf.len()) {
            return Ok(());
        }
        self.inner.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn without_a_limit_there_is_room() {
        // The test process has no file-size limit unless the runner set one.
        if fsize_limit().is_none() {
            assert_eq!(fsize_room(123), u64::MAX);
        } else {
            assert!(fsize_room(u64::MAX) == 0);
        }
    }

    #[test]
    fn shortages_are_told_from_other_failures() {
        assert!(is_shortage(&io::Error::from_raw_os_error(libc::EMFILE)));
        assert!(is_shortage(&io::Error::from_raw_os_error(libc::ENOSPC)));
        assert!(!is_shortage(&io::Error::from_raw_os_error(libc::EACCES)));
        assert!(!is_shortage(&io::Error::from(io::ErrorKind::NotFound)));
    }
}
