//! The write-ahead spool: records waiting for the collector, kept in files
//! in the config dir so that a record not delivered by this process is
//! delivered by a later one.
//!
//! # Files
//!
//! Each process that spools writes its own file,
//! `telemetry-spool-<order>-<random>.jsonl`, mode 0600, where `<order>` is
//! the file's creation time (16 hex digits of microseconds): sorting the
//! names sorts the files by write order. A file holds two kinds of line,
//! each one JSON object:
//!
//! - a record, exactly as [`Record::to_json`](crate::Record::to_json) gives
//!   it (it carries `event_timestamp` and `properties.event_id`);
//! - an acknowledgement, `{"ack":["<event_id>", ...]}`, appended once the
//!   collector accepted those records.
//!
//! A record is pending when no later acknowledgement names it. When every
//! record of a file is acknowledged, its owner truncates it to nothing (and
//! at exit removes it).
//!
//! # Ownership: one lock per file
//!
//! A file is owned by the process that holds an exclusive `flock` on it. The
//! owner takes the lock before the file has its final name (it is created as
//! `.telemetry-spool-<random>.tmp`, locked, then renamed), and the kernel
//! releases it when the process ends in any way (exit, crash, `SIGKILL`).
//! So a file whose lock can be taken belongs to no living process: its
//! records are leftovers. One shared spool file would not do: a process
//! claiming it would take the records that a live writer still has in
//! flight, and both would send them.
//!
//! `claim` takes leftovers for this process: for each spool file it can
//! lock, it renames the file to a name of its own (keeping its order) while
//! holding the lock. Exactly one claimer wins: a second one either fails to
//! take the lock or, once it has it, finds that the name it opened is gone
//! (the rename fails) or now names another file (the identity check
//! fails). A claimer that dies keeps the file (now under its name)
//! unlocked, and the next process claims it in turn; no age guess is
//! needed. Without `flock` (not unix) a file counts as a leftover once it
//! has not changed for an hour.
//!
//! # Leftovers: bounded whatever is on disk
//!
//! However many files earlier runs left (a thousand offline runs of an
//! earlier version leave a thousand), a claim holds at most three spool
//! descriptors of its own at a time (the merged file, the one being merged
//! into it, and a trim's temporary), so that with this process's live file
//! and a compaction's temporary a process never holds more than eight
//! (the process tests pin it); [`peak_open_files`] tells how many it held at most
//! (measured: 3). A claim:
//!
//! 1. removes the `.tmp` files of compactions and creations that were
//!    killed (unlocked, and written to or older than a minute);
//! 2. plans by the files' sizes alone (no read): the newest leftover files
//!    whose sizes add up to at most [`MAX_BYTES`] are kept, the older ones
//!    are dropped whole, their records counted (a line count, nothing
//!    kept in memory);
//! 3. merges the kept files into the oldest of them, oldest first, so that
//!    the merged file is in write order, and removes each once copied;
//! 4. trims the merged file to [`MAX_RECORDS`] / [`MAX_BYTES`], the oldest
//!    lines (by write order, never by their stamps) dropped and counted;
//! 5. only then, and only when this process can send, reads the merged
//!    file (at most [`MAX_BYTES`]) for the records to send.
//!
//! Steps 1–3 stop when the claim's time is up (a quarter of the exit budget
//! by default): what is not reached stays for a later run. So any number of
//! offline runs leaves one merged file and the live files of the runs that
//! ended since, together within the bound; the oldest go first, counted.
//!
//! # Bound and compaction
//!
//! A live file is kept within a [`Bound`] (by default the same
//! [`MAX_RECORDS`] / [`MAX_BYTES`] that a later run keeps, and never past
//! `RLIMIT_FSIZE`) by [`LiveSpool`]: when an append would pass it, the file
//! is first compacted so that it holds, with the new record, at most 3/4 of
//! the bound: acknowledged records and acknowledgements go, then the oldest
//! pending records, counted. A compaction therefore comes at most once per
//! quarter of the bound appended, and copies byte ranges that
//! [`LiveSpool`] already knows (no parsing).
//!
//! [`SpoolFile::rewrite`] writes the kept lines to a new file that is
//! locked before it has a name (as at creation), syncs it, renames it over
//! the live file's own name, and only then closes the old file, releasing
//! its lock. So at every moment the name names a file that the owner has
//! locked. A claimer racing a compaction never takes a record twice:
//!
//! - it opened the name before the rename and tries the old file's lock
//!   while the owner still holds it: it fails, as for any live file;
//! - it takes the old file's lock after the owner closed it: the name now
//!   names the new file, and `claim` checks, after locking and before
//!   renaming, that the name still names the file it locked; it does not,
//!   so the claimer leaves it (without that check its rename would move
//!   the new, live file);
//! - it opened the name after the rename: it holds the new file, locked by
//!   the owner.
//!
//! A crash during a compaction leaves the old file under the name (claimed
//! as usual) and at most a `.tmp` file, which a later claim removes.
//!
//! # Opting out wins over a live process
//!
//! A run that opts out deletes every spool file, live ones included. The
//! owner of a live file notices at its next compaction (and background
//! delivery at each batch and flush): its file's name no longer names it
//! ([`SpoolError::Deleted`]). It then drops what it holds and sends nothing
//! more; it never writes the file again.
//!
//! # Never past a resource limit
//!
//! No spool write passes `RLIMIT_FSIZE` (`files::fsize_room`): a live
//! file's bound is lowered to it, a record that would not fit is dropped
//! and counted, a merge stops short of it. A shortage of descriptors or
//! disk costs the records concerned, never the app.
//!
//! # Durability (fsync policy)
//!
//! An append is one `write` to a file opened with `O_APPEND`, never
//! followed by `fsync`: a record call must stay within a few microseconds,
//! and an fsync costs milliseconds. The data is in the kernel's page cache
//! as soon as the call returns, so it survives the process being killed or
//! crashing; only a crash of the whole machine (kernel panic, power loss)
//! can lose the last seconds of appends (until the kernel writes them back)
//! or leave the last line cut, which the reader skips. At exit, a file that
//! still holds pending records is synced once, and a compacted file is
//! synced before it replaces the old one (compaction is rare).
//!
//! # Reading leftovers
//!
//! A corrupt or cut line is skipped and counted; so are acknowledged
//! records, records older than [`MAX_AGE`], records stamped more than
//! [`MAX_AHEAD`] in the future (a clock that ran ahead: they would never
//! expire), and the oldest lines beyond the bound. Nothing a file holds is
//! fatal; each problem is a typed [`SpoolError`] or a count in [`Drops`]
//! for the debug log, which never shows a path or a record.

mod claim;
mod file;
mod live;
mod read;
#[cfg(test)]
pub(crate) mod tests;

pub use claim::{claim, ClaimLimits};
pub use file::{peak_open_files, SpoolFile};
pub use live::{Bound, LiveSpool};
pub use read::Leftover;

use crate::delivery::dropped::{DropCounts, DropReason};
use crate::files;
use crate::record::random;
use std::fmt;
use std::fs;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Every spool file's name starts with this.
pub const SPOOL_PREFIX: &str = "telemetry-spool-";
/// A spool file's name ends with this.
pub const SPOOL_SUFFIX: &str = ".jsonl";
/// A spool file being created or compacted (before it is locked and
/// renamed) is named `.<SPOOL_PREFIX><random>.tmp`.
const TEMP_PREFIX: &str = ".telemetry-spool-";
const TEMP_SUFFIX: &str = ".tmp";

/// Leftover records older than this (by `event_timestamp`) are dropped.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Leftover records stamped further ahead of this machine's clock than this
/// are dropped as invalid.
pub const MAX_AHEAD: Duration = Duration::from_secs(24 * 60 * 60);
/// Most leftover records kept over all files; the oldest go first.
pub const MAX_RECORDS: usize = 10_000;
/// Most leftover bytes kept over all files.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;
/// Longest line read as a record: a record is at most
/// [`MAX_RECORD_LEN`](crate::MAX_RECORD_LEN); an acknowledgement of a batch
/// of a few thousand ids fits too.
const MAX_LINE_LEN: usize = 96 * 1024;

/// Why a spool file could not be used. Shown in the debug log; it names no
/// path and no record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpoolError {
    /// The name is a symbolic link; it is never followed.
    Symlink,
    /// The name is a directory, FIFO, socket or device, not a regular file.
    NotAFile,
    /// The file belongs to another user.
    NotOurs,
    /// The config dir or the file cannot be written (read-only, permissions).
    Unwritable(ErrorKind),
    /// No descriptor or no disk space was left (`EMFILE`, `ENOSPC`, ...).
    Shortage(ErrorKind),
    /// Writing would pass the process's file-size limit (`RLIMIT_FSIZE`).
    FileSizeLimit,
    /// This process's file was deleted by another process: telemetry was
    /// turned off there.
    Deleted,
    /// Another failure of the file system, by kind.
    Io(ErrorKind),
}

impl fmt::Display for SpoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // What happened, the error's kind when it has one, then what follows.
        let what = match self {
            SpoolError::Symlink => "a spool file is a symbolic link",
            SpoolError::NotAFile => "a spool file is not a regular file (a directory or FIFO?)",
            SpoolError::NotOurs => "a spool file belongs to another user",
            SpoolError::Unwritable(_) => "the spool cannot be written",
            SpoolError::Shortage(_) => "no descriptor or disk space left for the spool",
            SpoolError::FileSizeLimit => {
                "the spool reached the process's file-size limit (RLIMIT_FSIZE)"
            }
            SpoolError::Deleted => "the spool file was deleted by a run that turned telemetry off",
            SpoolError::Io(_) => "a spool file could not be used",
        };
        let then = match self {
            SpoolError::Symlink | SpoolError::NotAFile | SpoolError::NotOurs => {
                "; it was left alone"
            }
            SpoolError::Unwritable(_) | SpoolError::Shortage(_) => {
                "; records are kept in memory only"
            }
            SpoolError::FileSizeLimit => "; what would not fit is dropped",
            SpoolError::Deleted => "; nothing more is sent",
            SpoolError::Io(_) => "",
        };
        match self {
            SpoolError::Unwritable(kind) | SpoolError::Shortage(kind) | SpoolError::Io(kind) => {
                write!(f, "{what} ({kind:?}){then}")
            }
            _ => write!(f, "{what}{then}"),
        }
    }
}

impl std::error::Error for SpoolError {}

impl SpoolError {
    fn from_open(error: &io::Error) -> SpoolError {
        #[cfg(unix)]
        if error.raw_os_error() == Some(libc::ELOOP) {
            return SpoolError::Symlink;
        }
        if files::is_shortage(error) {
            return SpoolError::Shortage(error.kind());
        }
        match error.kind() {
            ErrorKind::IsADirectory => SpoolError::NotAFile,
            ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
                SpoolError::Unwritable(error.kind())
            }
            kind => SpoolError::Io(kind),
        }
    }

    fn from_write(error: &io::Error) -> SpoolError {
        if files::is_shortage(error) {
            return SpoolError::Shortage(error.kind());
        }
        SpoolError::Unwritable(error.kind())
    }

    /// The drop reason of records this error kept off the disk.
    #[must_use]
    pub(crate) fn drop_reason(self) -> DropReason {
        match self {
            SpoolError::FileSizeLimit => DropReason::FileSizeLimit,
            _ => DropReason::DescriptorShortage,
        }
    }
}

/// Records dropped while claiming leftovers, by reason, for the debug log
/// and the drop counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drops {
    /// Lines that were not a record or an acknowledgement (corrupt, cut).
    pub corrupt: usize,
    /// Records older than [`MAX_AGE`].
    pub expired: usize,
    /// Records stamped more than [`MAX_AHEAD`] in the future.
    pub invalid_timestamp: usize,
    /// Records beyond [`MAX_RECORDS`] / [`MAX_BYTES`], the oldest first.
    pub over_limit: usize,
    /// Records that merging would have written past `RLIMIT_FSIZE`.
    pub file_size_limit: usize,
}

impl Drops {
    /// `true` when nothing was dropped.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Drops::default()
    }

    /// Adds these drops to the client's counts (corrupt lines are not
    /// records, and expired ones are not counted: they are old news).
    pub(crate) fn count_into(&self, counts: &DropCounts) {
        counts.add(DropReason::SpoolBound, self.over_limit as u64);
        counts.add(DropReason::InvalidTimestamp, self.invalid_timestamp as u64);
        counts.add(DropReason::FileSizeLimit, self.file_size_limit as u64);
    }
}

impl fmt::Display for Drops {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "leftover records dropped: {} corrupt, {} older than 7 days, {} stamped more than a day ahead, {} over the bound ({} records / {} bytes, oldest first), {} past the file-size limit",
            self.corrupt,
            self.expired,
            self.invalid_timestamp,
            self.over_limit,
            MAX_RECORDS,
            MAX_BYTES,
            self.file_size_limit
        )
    }
}

/// Deletes every spool file in `dir`, pending records included, whoever
/// owns it: telemetry was turned off, and opting out wins. Returns how many
/// files were removed and what could not be. A directory under a spool
/// name is left alone (reported as [`SpoolError::NotAFile`]).
pub fn delete_all(dir: &Path) -> (usize, Vec<SpoolError>) {
    let mut removed = 0;
    let mut problems = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return (removed, problems);
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if !is_spool_name(&path) && !is_temp_name(&path) {
            continue;
        }
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => problems.push(SpoolError::NotAFile),
            Ok(_) => match fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(error) => problems.push(SpoolError::from_write(&error)),
            },
            Err(error) if error.kind() == ErrorKind::NotFound => {}
            Err(error) => problems.push(SpoolError::Io(error.kind())),
        }
    }
    (removed, problems)
}

/// The pending records of every spool file in `dir`, without claiming,
/// locking or changing anything (for tests and status tools).
pub fn peek(dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    for path in spool_names(dir) {
        let Ok(mut file) = file::open_existing(&path) else {
            continue;
        };
        if !file.metadata().is_ok_and(|meta| meta.is_file()) {
            continue;
        }
        let mut drops = Drops::default();
        // `now_ms` 0: nothing counts as expired or ahead.
        if let Ok(records) = read::read_pending(&mut file, 0, &mut drops) {
            lines.extend(records.into_iter().map(|record| record.line));
        }
    }
    lines
}

/// The spool files in `dir`, oldest first (by their order, then name).
pub fn spool_names(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<(u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| is_spool_name(path))
        .map(|path| (order_of(&path), path))
        .collect();
    names.sort();
    names.into_iter().map(|(_, path)| path).collect()
}

/// Epoch milliseconds now.
#[must_use]
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
        })
}

fn file_name(path: &Path) -> Option<&str> {
    path.file_name().and_then(|name| name.to_str())
}

fn is_spool_name(path: &Path) -> bool {
    file_name(path)
        .is_some_and(|name| name.starts_with(SPOOL_PREFIX) && name.ends_with(SPOOL_SUFFIX))
}

fn is_temp_name(path: &Path) -> bool {
    file_name(path).is_some_and(|name| name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX))
}

/// A spool file's name for this `order` (creation time, microseconds).
fn spool_name(dir: &Path, order: u64) -> PathBuf {
    dir.join(format!(
        "{SPOOL_PREFIX}{order:016x}-{:016x}{SPOOL_SUFFIX}",
        random::uuid_v4() as u64
    ))
}

/// A fresh temporary's name in `dir`.
fn temp_name(dir: &Path) -> PathBuf {
    dir.join(format!(
        "{TEMP_PREFIX}{:032x}{TEMP_SUFFIX}",
        random::uuid_v4()
    ))
}

/// The order of a spool file, from its name; 0 (the oldest) for a name
/// without one (an earlier version's).
fn order_of(path: &Path) -> u64 {
    file_name(path)
        .and_then(|name| name.strip_prefix(SPOOL_PREFIX))
        .and_then(|rest| rest.split_once('-'))
        .filter(|(order, _)| order.len() == 16)
        .and_then(|(order, _)| u64::from_str_radix(order, 16).ok())
        .unwrap_or(0)
}
