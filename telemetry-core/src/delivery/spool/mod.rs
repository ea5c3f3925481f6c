//! The write-ahead spool: records waiting for the collector, kept in files
//! in the config dir so that a record not delivered by this process is
//! delivered by a later one.
//!
//! # Files
//!
//! Each process that spools writes its own file,
//! `telemetry-spool-<random>.jsonl`, mode 0600. A file holds two kinds of
//! line, each one JSON object:
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
//! [`claim`] takes leftovers for this process: for each spool file it can
//! lock, it renames the file to a name of its own while holding the lock.
//! Exactly one claimer wins: a second one either fails to take the lock or,
//! once it has it, finds that the name it opened is gone (the rename fails)
//! or now names another file (the identity check fails). A claimer that
//! dies keeps the file (now under its name) unlocked, and the next process
//! claims it in turn; no age guess is needed. Without `flock` (not unix) a
//! file counts as a leftover once it has not changed for an hour.
//!
//! # Bound and compaction
//!
//! A live file is kept within a [`Bound`] (by default the same
//! [`MAX_RECORDS`] / [`MAX_BYTES`] that a later run reads) by
//! [`LiveSpool`]: when an append would pass it, the file is first
//! compacted so that it holds, with the new record, at most 3/4 of the
//! bound: acknowledged records and acknowledgements go, then the oldest
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
//!   names the new file, and [`claim`] checks, after locking and before
//!   renaming, that the name still names the file it locked; it does not,
//!   so the claimer leaves it (without that check its rename would move
//!   the new, live file);
//! - it opened the name after the rename: it holds the new file, locked by
//!   the owner.
//!
//! A name that still names the file a claimer locked belongs to no living
//! process (an owner never releases the lock of the file its name names),
//! and only its owner renames onto a name, so the claimer's rename moves
//! that file. A crash during a compaction leaves the old file under the
//! name (claimed as usual) and at most a `.tmp` file, which is not read.
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
//! records, records older than [`MAX_AGE`], and (oldest first) records
//! beyond [`MAX_RECORDS`] or [`MAX_BYTES`] over all claimed files. Only the
//! last [`READ_LIMIT`] bytes of a file are read: the newest records are at
//! its end. Nothing a file holds is fatal; each problem is a typed
//! [`SpoolError`] or a count in [`Drops`] for the debug log, which never
//! shows a path or a record.

mod live;

pub use live::{Appended, Bound, LiveSpool};

use crate::files;
use crate::record::random;
use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Every spool file's name starts with this.
pub const SPOOL_PREFIX: &str = "telemetry-spool-";
/// A spool file's name ends with this.
pub const SPOOL_SUFFIX: &str = ".jsonl";
/// A spool file being created (before it is locked and renamed) is named
/// `.<SPOOL_PREFIX><random>.tmp`.
const TEMP_PREFIX: &str = ".telemetry-spool-";

/// Leftover records older than this (by `event_timestamp`) are dropped.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// Most leftover records kept over all claimed files; the oldest go first.
pub const MAX_RECORDS: usize = 10_000;
/// Most leftover bytes (records' JSON) kept over all claimed files.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;
/// Most bytes read from the end of one spool file.
pub const READ_LIMIT: u64 = 8 * 1024 * 1024;
/// Longest line read as a record: a record is at most
/// [`MAX_RECORD_LEN`](crate::MAX_RECORD_LEN); an acknowledgement of a batch
/// of a few hundred ids fits too.
const MAX_LINE_LEN: usize = 96 * 1024;
/// Without `flock`, a file unchanged for this long is taken as a leftover.
#[cfg(not(unix))]
const STALE_AFTER: Duration = Duration::from_secs(60 * 60);

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
    /// The config dir or the file cannot be written (read-only, permissions,
    /// disk full).
    Unwritable(ErrorKind),
    /// Another failure of the file system, by kind.
    Io(ErrorKind),
}

impl fmt::Display for SpoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpoolError::Symlink => {
                f.write_str("a spool file is a symbolic link; it was left alone")
            }
            SpoolError::NotAFile => f.write_str(
                "a spool file is not a regular file (a directory or FIFO?); it was left alone",
            ),
            SpoolError::NotOurs => {
                f.write_str("a spool file belongs to another user; it was left alone")
            }
            SpoolError::Unwritable(kind) => {
                write!(
                    f,
                    "the spool cannot be written ({kind:?}); records are kept in memory only"
                )
            }
            SpoolError::Io(kind) => write!(f, "a spool file could not be used ({kind:?})"),
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
        match error.kind() {
            ErrorKind::IsADirectory => SpoolError::NotAFile,
            ErrorKind::PermissionDenied
            | ErrorKind::ReadOnlyFilesystem
            | ErrorKind::StorageFull => SpoolError::Unwritable(error.kind()),
            kind => SpoolError::Io(kind),
        }
    }

    fn from_write(error: &io::Error) -> SpoolError {
        SpoolError::Unwritable(error.kind())
    }
}

/// Records dropped while reading leftovers, by reason, for the debug log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drops {
    /// Lines that were not a record or an acknowledgement (corrupt, cut).
    pub corrupt: usize,
    /// Records older than [`MAX_AGE`].
    pub expired: usize,
    /// Records beyond [`MAX_RECORDS`] / [`MAX_BYTES`], the oldest first.
    pub over_limit: usize,
    /// Bytes at the start of a file beyond [`READ_LIMIT`], not read.
    pub unread_bytes: u64,
}

impl Drops {
    /// `true` when nothing was dropped.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Drops::default()
    }
}

impl fmt::Display for Drops {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "leftover records dropped: {} corrupt, {} older than 7 days, {} over the limit ({} records / {} bytes), {} bytes not read",
            self.corrupt, self.expired, self.over_limit, MAX_RECORDS, MAX_BYTES, self.unread_bytes
        )
    }
}

/// A spool file this process owns: open for appending, and locked.
#[derive(Debug)]
pub struct SpoolFile {
    file: File,
    path: PathBuf,
}

impl SpoolFile {
    /// Creates this process's spool file in `dir` (created 0700 if
    /// missing), mode 0600, without following links, and locks it.
    pub fn create(dir: &Path) -> Result<SpoolFile, SpoolError> {
        files::create_dir(dir).map_err(|error| SpoolError::from_write(&error))?;
        let id = unique_id();
        let temp = dir.join(format!("{TEMP_PREFIX}{id}.tmp"));
        let path = dir.join(format!("{SPOOL_PREFIX}{id}{SPOOL_SUFFIX}"));
        let mut options = OpenOptions::new();
        options.read(true).append(true).create_new(true);
        files::private_mode(&mut options);
        files::no_follow_no_block(&mut options);
        let file = options
            .open(&temp)
            .map_err(|error| SpoolError::from_open(&error))?;
        let placed = (|| {
            if !try_lock(&file) {
                return Err(SpoolError::Io(ErrorKind::WouldBlock));
            }
            fs::rename(&temp, &path).map_err(|error| SpoolError::from_write(&error))
        })();
        if let Err(error) = placed {
            let _ = fs::remove_file(&temp);
            return Err(error);
        }
        Ok(SpoolFile { file, path })
    }

    /// Appends one record (its wire JSON, without a newline) as one line,
    /// in a single write.
    pub fn append_record(&mut self, line: &mut String) -> Result<(), SpoolError> {
        line.push('\n');
        let written = self.file.write_all(line.as_bytes());
        line.pop();
        written.map_err(|error| SpoolError::from_write(&error))
    }

    /// Appends an acknowledgement of these records' `event_id`s; returns
    /// the bytes written.
    pub fn append_ack<'a>(
        &mut self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<u64, SpoolError> {
        let ids: Vec<&str> = ids.into_iter().collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let mut line = serde_json::to_string(&serde_json::json!({ "ack": ids }))
            .map_err(|_| SpoolError::Io(ErrorKind::InvalidData))?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(|error| SpoolError::from_write(&error))?;
        Ok(line.len() as u64)
    }

    /// Replaces the file by one holding only these byte ranges of it
    /// (`(offset, len)`, in order, each a whole record line), under the
    /// same name and still locked; returns the new file's length. See
    /// "Compaction" in the module docs for why no claimer can take either
    /// file meanwhile. On failure the file is left as it was.
    pub fn rewrite(&mut self, spans: &[(u64, u64)]) -> Result<u64, SpoolError> {
        let io = |error: io::Error| SpoolError::Io(error.kind());
        let start = spans.first().map_or(0, |&(offset, _)| offset);
        self.file.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut old = Vec::new();
        self.file.read_to_end(&mut old).map_err(io)?;
        let mut kept = Vec::with_capacity(old.len());
        for &(offset, len) in spans {
            let from = offset
                .checked_sub(start)
                .and_then(|from| usize::try_from(from).ok())
                .unwrap_or(usize::MAX);
            let to = from.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
            // The file is not what this process wrote (changed behind its
            // back): leave it alone.
            let Some(line) = old.get(from..to) else {
                return Err(SpoolError::Io(ErrorKind::InvalidData));
            };
            if line.last() != Some(&b'\n') {
                return Err(SpoolError::Io(ErrorKind::InvalidData));
            }
            kept.extend_from_slice(line);
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let temp = dir.join(format!("{TEMP_PREFIX}{}.tmp", unique_id()));
        let mut options = OpenOptions::new();
        options.read(true).append(true).create_new(true);
        files::private_mode(&mut options);
        files::no_follow_no_block(&mut options);
        let mut file = options
            .open(&temp)
            .map_err(|error| SpoolError::from_open(&error))?;
        let placed = (|| {
            if !try_lock(&file) {
                return Err(SpoolError::Io(ErrorKind::WouldBlock));
            }
            file.write_all(&kept)
                .map_err(|error| SpoolError::from_write(&error))?;
            // Synced before it replaces the old file: a crash of the
            // machine must not leave the name with nothing behind it.
            file.sync_data()
                .map_err(|error| SpoolError::from_write(&error))?;
            fs::rename(&temp, &self.path).map_err(|error| SpoolError::from_write(&error))
        })();
        if let Err(error) = placed {
            let _ = fs::remove_file(&temp);
            return Err(error);
        }
        // The old file's lock goes only now, once the name is the new one.
        self.file = file;
        Ok(kept.len() as u64)
    }

    /// Empties the file: every record in it was acknowledged.
    pub fn truncate(&mut self) -> Result<(), SpoolError> {
        self.file
            .set_len(0)
            .map_err(|error| SpoolError::from_write(&error))
    }

    /// Flushes the file's data to the disk.
    pub fn sync(&self) -> Result<(), SpoolError> {
        self.file
            .sync_data()
            .map_err(|error| SpoolError::from_write(&error))
    }

    /// Removes the file (its records were all delivered or dropped); the
    /// lock goes with it.
    pub fn remove(self) -> Result<(), SpoolError> {
        fs::remove_file(&self.path).map_err(|error| SpoolError::from_write(&error))
    }

    /// The file's path (for tests and tools; never logged).
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// One leftover record, read from a claimed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// Index of its file in [`Claim::files`].
    pub file: usize,
    /// Its `event_id`.
    pub event_id: String,
    /// Its wire JSON, as spooled.
    pub line: String,
    /// Its `event_timestamp`, epoch milliseconds.
    pub timestamp_ms: u64,
}

/// What [`claim`] took for this process.
#[derive(Debug, Default)]
pub struct Claim {
    /// The claimed files, renamed to names of this process and locked.
    /// Acknowledge delivered records with [`SpoolFile::append_ack`]; remove
    /// a file once all its records are delivered. A file not removed is
    /// claimed again by a later process after this one ends.
    pub files: Vec<SpoolFile>,
    /// The pending records, oldest first.
    pub records: Vec<Leftover>,
    /// What was dropped while reading.
    pub drops: Drops,
    /// Files that could not be claimed or read, by reason.
    pub problems: Vec<SpoolError>,
}

/// Claims every leftover spool file in `dir` for this process and reads
/// its pending records, within the limits. `now_ms` is the current time in
/// epoch milliseconds (for [`MAX_AGE`]). Files left with nothing pending
/// are removed at once. A missing dir is not a problem: nothing to claim.
pub fn claim(dir: &Path, now_ms: u64) -> Claim {
    let mut claim = Claim::default();
    let Ok(entries) = fs::read_dir(dir) else {
        return claim;
    };
    let mut names: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| is_spool_name(path))
        .collect();
    names.sort();
    let mut pending: Vec<Leftover> = Vec::new();
    let mut files: Vec<Option<SpoolFile>> = Vec::new();
    for path in names {
        let file = match claim_one(dir, &path) {
            Ok(Some(file)) => file,
            Ok(None) => continue,
            Err(problem) => {
                claim.problems.push(problem);
                continue;
            }
        };
        let index = files.len();
        let mut file = file;
        match read_pending(&mut file.file, index, now_ms, &mut claim.drops) {
            Ok(records) => {
                pending.extend(records);
                files.push(Some(file));
            }
            Err(problem) => {
                // Claimed but unreadable: keep it for a later run.
                claim.problems.push(problem);
                files.push(None);
            }
        }
    }
    // Keep the newest within the limits, over all files.
    pending.sort_by_key(|record| record.timestamp_ms);
    let mut bytes = 0;
    let mut first_kept = pending.len();
    for (index, record) in pending.iter().enumerate().rev() {
        if pending.len() - index > MAX_RECORDS || bytes + record.line.len() > MAX_BYTES {
            break;
        }
        bytes += record.line.len();
        first_kept = index;
    }
    claim.drops.over_limit += first_kept;
    pending.drain(..first_kept);
    let mut still_used = vec![false; files.len()];
    for record in &pending {
        still_used[record.file] = true;
    }
    // Files with nothing left to send go now; the rest are renumbered.
    let mut new_index = vec![usize::MAX; files.len()];
    for (index, file) in files.into_iter().enumerate() {
        let Some(file) = file else { continue };
        if still_used[index] {
            new_index[index] = claim.files.len();
            claim.files.push(file);
        } else if let Err(problem) = file.remove() {
            claim.problems.push(problem);
        }
    }
    for record in &mut pending {
        record.file = new_index[record.file];
    }
    claim.records = pending;
    claim
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
        let temp = file_name(&path).is_some_and(|name| name.starts_with(TEMP_PREFIX));
        if !is_spool_name(&path) && !temp {
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
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| is_spool_name(path))
        .collect();
    paths.sort();
    for path in paths {
        let Ok(mut file) = open_existing(&path) else {
            continue;
        };
        if !file.metadata().is_ok_and(|meta| meta.is_file()) {
            continue;
        }
        let mut drops = Drops::default();
        // `now_ms` 0: nothing counts as expired.
        if let Ok(records) = read_pending(&mut file, 0, 0, &mut drops) {
            lines.extend(records.into_iter().map(|record| record.line));
        }
    }
    lines
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

fn file_name(path: &Path) -> Option<&str> {
    path.file_name().and_then(|name| name.to_str())
}

fn is_spool_name(path: &Path) -> bool {
    file_name(path)
        .is_some_and(|name| name.starts_with(SPOOL_PREFIX) && name.ends_with(SPOOL_SUFFIX))
}

/// Takes one file if it is a leftover: `Ok(None)` when it is someone's
/// (locked) or already gone.
fn claim_one(dir: &Path, path: &Path) -> Result<Option<SpoolFile>, SpoolError> {
    let file = match open_existing(path) {
        Ok(file) => file,
        Err(SpoolError::Io(ErrorKind::NotFound)) => return Ok(None),
        Err(error) => return Err(error),
    };
    let meta = file
        .metadata()
        .map_err(|error| SpoolError::Io(error.kind()))?;
    if !meta.is_file() {
        return Err(SpoolError::NotAFile);
    }
    if !is_ours(&meta) {
        return Err(SpoolError::NotOurs);
    }
    if !is_leftover(&file, &meta) {
        return Ok(None);
    }
    claim_locked(dir, path, file)
}

/// [`claim_one`] once `file` (opened from `path`) is locked by this
/// process: renames `path` to a name of this process, unless `path` no
/// longer names `file` (its owner compacted it, or another claimer took
/// it).
fn claim_locked(dir: &Path, path: &Path, file: File) -> Result<Option<SpoolFile>, SpoolError> {
    // An owner releases a file's lock only once its name is gone or names
    // the owner's new (locked) file, so a name that still names the file
    // we locked belongs to no living process; without this check, the
    // rename below could move a live file that replaced the one we opened.
    if !same_file(&file, path) {
        return Ok(None);
    }
    let target = dir.join(format!("{SPOOL_PREFIX}{}{SPOOL_SUFFIX}", unique_id()));
    match fs::rename(path, &target) {
        Ok(()) => {}
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(SpoolError::from_write(&error)),
    }
    // The name we opened may have been claimed, and reused, between our
    // open and our rename: make sure we renamed the file we hold.
    if !same_file(&file, &target) {
        return Ok(None);
    }
    Ok(Some(SpoolFile { file, path: target }))
}

/// Opens an existing file for reading and appending, never following a
/// link and never blocking (a FIFO).
fn open_existing(path: &Path) -> Result<File, SpoolError> {
    // O_NOFOLLOW refuses a link too (ELOOP); this check also covers
    // platforms without it.
    let meta = fs::symlink_metadata(path).map_err(|error| SpoolError::Io(error.kind()))?;
    if meta.file_type().is_symlink() {
        return Err(SpoolError::Symlink);
    }
    if meta.is_dir() {
        return Err(SpoolError::NotAFile);
    }
    let mut options = OpenOptions::new();
    options.read(true).append(true);
    files::no_follow_no_block(&mut options);
    options.open(path).map_err(|error| match error.kind() {
        ErrorKind::NotFound => SpoolError::Io(ErrorKind::NotFound),
        _ => SpoolError::from_open(&error),
    })
}

/// The pending records of a file, in file order.
fn read_pending(
    file: &mut File,
    index: usize,
    now_ms: u64,
    drops: &mut Drops,
) -> Result<Vec<Leftover>, SpoolError> {
    let len = file
        .metadata()
        .map_err(|error| SpoolError::Io(error.kind()))?
        .len();
    let start = len.saturating_sub(READ_LIMIT);
    file.seek(SeekFrom::Start(start))
        .map_err(|error| SpoolError::Io(error.kind()))?;
    let mut bytes = Vec::new();
    file.take(READ_LIMIT)
        .read_to_end(&mut bytes)
        .map_err(|error| SpoolError::Io(error.kind()))?;
    let mut text: &[u8] = &bytes;
    if start > 0 {
        // Skip the line the cut fell into.
        let skip = text
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |at| at + 1);
        drops.unread_bytes += start + skip as u64;
        text = &text[skip..];
    }
    let oldest = now_ms.saturating_sub(u64::try_from(MAX_AGE.as_millis()).unwrap_or(u64::MAX));
    let mut records = Vec::new();
    let mut acked: HashSet<String> = HashSet::new();
    for line in text.split(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(line) {
            Some(Line::Record {
                event_id,
                timestamp_ms,
            }) => {
                let Ok(line) = std::str::from_utf8(line) else {
                    drops.corrupt += 1;
                    continue;
                };
                records.push(Leftover {
                    file: index,
                    event_id,
                    line: line.trim().to_owned(),
                    timestamp_ms,
                });
            }
            Some(Line::Ack(ids)) => acked.extend(ids),
            None => drops.corrupt += 1,
        }
    }
    let mut seen = HashSet::new();
    records
        .retain(|record| !acked.contains(&record.event_id) && seen.insert(record.event_id.clone()));
    let before = records.len();
    records.retain(|record| record.timestamp_ms >= oldest);
    drops.expired += before - records.len();
    Ok(records)
}

enum Line {
    Record { event_id: String, timestamp_ms: u64 },
    Ack(Vec<String>),
}

fn parse_line(line: &[u8]) -> Option<Line> {
    if line.len() > MAX_LINE_LEN {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    let object = value.as_object()?;
    if let Some(ids) = object.get("ack") {
        let ids = ids
            .as_array()?
            .iter()
            .map(|id| id.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()?;
        return Some(Line::Ack(ids));
    }
    let timestamp_ms = object.get("event_timestamp")?.as_u64()?;
    let event_id = object.get("properties")?.get("event_id")?.as_str()?;
    if event_id.is_empty() || !object.get("event")?.is_string() {
        return None;
    }
    Some(Line::Record {
        event_id: event_id.to_owned(),
        timestamp_ms,
    })
}

fn unique_id() -> String {
    format!("{:032x}", random::uuid_v4())
}

#[cfg(unix)]
fn try_lock(file: &File) -> bool {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor this `File` owns; no memory is shared.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn try_lock(_file: &File) -> bool {
    true
}

/// Whether no living process owns the file.
#[cfg(unix)]
fn is_leftover(file: &File, _meta: &fs::Metadata) -> bool {
    try_lock(file)
}

#[cfg(not(unix))]
fn is_leftover(_file: &File, meta: &fs::Metadata) -> bool {
    meta.modified()
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .is_some_and(|age| age >= STALE_AFTER)
}

#[cfg(unix)]
fn is_ours(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.uid() == files::effective_uid()
}

#[cfg(not(unix))]
fn is_ours(_meta: &fs::Metadata) -> bool {
    true
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::symlink_metadata(path)) {
        (Ok(held), Ok(named)) => held.dev() == named.dev() && held.ino() == named.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, _path: &Path) -> bool {
    true
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    pub(crate) use crate::test_support::temp_dir;

    /// A wire record with this id and timestamp.
    pub(crate) fn line(id: &str, timestamp_ms: u64) -> String {
        format!(
            r#"{{"event":"tool","event_timestamp":{timestamp_ms},"source":"t","properties":{{"tool_name":"x","event_id":"{id}"}}}}"#
        )
    }

    fn ids(records: &[Leftover]) -> Vec<&str> {
        records
            .iter()
            .map(|record| record.event_id.as_str())
            .collect()
    }

    /// A leftover file as an ended process leaves it: records, some acked.
    fn leftover_file(dir: &Path, ids: &[&str], acked: &[&str]) {
        let mut file = SpoolFile::create(dir).unwrap();
        for id in ids {
            file.append_record(&mut line(id, now_ms())).unwrap();
        }
        file.append_ack(acked.iter().copied()).unwrap();
    }

    fn spool_files(dir: &Path) -> Vec<PathBuf> {
        fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| is_spool_name(path))
            .collect()
    }

    #[test]
    fn pending_records_of_an_ended_process_are_claimed_once() {
        let dir = temp_dir("claim");
        leftover_file(&dir, &["a", "b", "c"], &["b"]);
        let claim = claim(&dir, now_ms());
        assert_eq!(ids(&claim.records), ["a", "c"]);
        assert_eq!(claim.files.len(), 1);
        assert!(claim.problems.is_empty() && claim.drops.is_empty());
        assert_eq!(
            claim.records[0].line,
            line("a", claim.records[0].timestamp_ms)
        );
        // While this claimer lives, nobody else gets them.
        assert!(super::claim(&dir, now_ms()).records.is_empty());
        let mut files = claim.files;
        files[0].append_ack(["a", "c"]).unwrap();
        drop(files);
        // Everything acknowledged: the next claim finds nothing and tidies.
        let again = super::claim(&dir, now_ms());
        assert!(again.records.is_empty() && again.files.is_empty());
        assert!(spool_files(&dir).is_empty());
    }

    #[test]
    fn a_live_file_is_never_claimed() {
        let dir = temp_dir("live");
        let mut live = SpoolFile::create(&dir).unwrap();
        live.append_record(&mut line("mine", now_ms())).unwrap();
        let claim = claim(&dir, now_ms());
        assert!(claim.records.is_empty() && claim.problems.is_empty());
        assert!(live.path().exists());
        drop(live);
        assert_eq!(ids(&super::claim(&dir, now_ms()).records), ["mine"]);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("mode");
        let nested = dir.join("config");
        let file = SpoolFile::create(&nested).unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(file.path()), 0o600);
        assert_eq!(mode(&nested), 0o700);
    }

    #[test]
    fn corrupt_and_cut_lines_are_skipped() {
        let dir = temp_dir("corrupt");
        let now = now_ms();
        let mut text = String::new();
        text.push_str(&line("good1", now));
        text.push_str("\nnot json at all\n\u{1}\u{2}\n{\"event\":\"tool\"}\n[1,2]\n\n");
        text.push_str(&line("good2", now));
        text.push('\n');
        let cut = line("cut", now);
        text.push_str(&cut[..cut.len() / 2]);
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(&[b'\n', 0xff, 0xfe, b'\n']);
        fs::write(dir.join(format!("{SPOOL_PREFIX}x{SPOOL_SUFFIX}")), bytes).unwrap();
        let claim = claim(&dir, now);
        assert_eq!(ids(&claim.records), ["good1", "good2"]);
        assert_eq!(claim.drops.corrupt, 6);
        assert!(claim.problems.is_empty());
    }

    #[test]
    fn records_older_than_seven_days_are_dropped() {
        let dir = temp_dir("age");
        let now = now_ms();
        let week = u64::try_from(MAX_AGE.as_millis()).unwrap();
        let text = [
            line("old", now - week - 1),
            line("recent", now - week + 60_000),
        ]
        .join("\n");
        fs::write(dir.join(format!("{SPOOL_PREFIX}x{SPOOL_SUFFIX}")), text).unwrap();
        let claim = claim(&dir, now);
        assert_eq!(ids(&claim.records), ["recent"]);
        assert_eq!(claim.drops.expired, 1);
    }

    #[test]
    fn the_newest_records_are_kept_within_the_count_limit() {
        let dir = temp_dir("count");
        let now = now_ms();
        let total = MAX_RECORDS + 50;
        let text: Vec<String> = (0..total)
            .map(|n| line(&format!("r{n}"), now - (total - n) as u64))
            .collect();
        fs::write(
            dir.join(format!("{SPOOL_PREFIX}x{SPOOL_SUFFIX}")),
            text.join("\n"),
        )
        .unwrap();
        let claim = claim(&dir, now);
        assert_eq!(claim.records.len(), MAX_RECORDS);
        assert_eq!(claim.drops.over_limit, 50);
        assert_eq!(claim.records[0].event_id, "r50");
        assert_eq!(
            claim.records[MAX_RECORDS - 1].event_id,
            format!("r{}", total - 1)
        );
    }

    #[test]
    fn the_newest_records_are_kept_within_the_byte_limit() {
        let dir = temp_dir("bytes");
        let now = now_ms();
        // 64 records of about 70 KiB: more than 4 MiB.
        let padding = "p".repeat(70 * 1024);
        let text: Vec<String> = (0..64u64)
            .map(|n| {
                line(&format!("big{n}"), now - 64 + n).replace("\"x\"", &format!("\"{padding}\""))
            })
            .collect();
        fs::write(
            dir.join(format!("{SPOOL_PREFIX}x{SPOOL_SUFFIX}")),
            text.join("\n"),
        )
        .unwrap();
        let claim = claim(&dir, now);
        let bytes: usize = claim.records.iter().map(|record| record.line.len()).sum();
        assert!(bytes <= MAX_BYTES);
        assert!(claim.drops.over_limit > 0);
        assert_eq!(claim.records.len() + claim.drops.over_limit, 64);
        assert_eq!(claim.records.last().unwrap().event_id, "big63");
    }

    #[test]
    fn a_huge_file_is_read_from_its_end_only() {
        let dir = temp_dir("huge");
        let now = now_ms();
        let mut bytes = vec![b'x'; usize::try_from(READ_LIMIT).unwrap() + 1024 * 1024];
        bytes.push(b'\n');
        bytes.extend_from_slice(line("tail", now).as_bytes());
        fs::write(dir.join(format!("{SPOOL_PREFIX}x{SPOOL_SUFFIX}")), bytes).unwrap();
        let claim = claim(&dir, now);
        assert_eq!(ids(&claim.records), ["tail"]);
        assert!(claim.drops.unread_bytes > 1024 * 1024);
    }

    #[cfg(unix)]
    #[test]
    fn links_directories_and_fifos_are_left_alone() {
        let dir = temp_dir("bad");
        let victim = dir.join("victim");
        let victim_text = line("victim", now_ms());
        fs::write(&victim, &victim_text).unwrap();
        std::os::unix::fs::symlink(
            &victim,
            dir.join(format!("{SPOOL_PREFIX}link{SPOOL_SUFFIX}")),
        )
        .unwrap();
        fs::create_dir(dir.join(format!("{SPOOL_PREFIX}dir{SPOOL_SUFFIX}"))).unwrap();
        let fifo = dir.join(format!("{SPOOL_PREFIX}fifo{SPOOL_SUFFIX}"));
        let fifo_c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo_c.as_ptr(), 0o600) }, 0);
        let mut claim = claim(&dir, now_ms());
        assert!(claim.records.is_empty());
        claim.problems.sort_by_key(|problem| format!("{problem:?}"));
        assert_eq!(
            claim.problems,
            [
                SpoolError::NotAFile,
                SpoolError::NotAFile,
                SpoolError::Symlink
            ]
        );
        assert_eq!(fs::read_to_string(&victim).unwrap(), victim_text);
        for problem in &claim.problems {
            let text = problem.to_string();
            assert!(!text.contains(dir.to_str().unwrap()), "{text}");
        }
    }

    #[test]
    fn an_unwritable_config_dir_is_a_typed_error() {
        let dir = temp_dir("unwritable");
        let not_a_dir = dir.join("plain-file");
        fs::write(&not_a_dir, "x").unwrap();
        let error = SpoolFile::create(&not_a_dir).unwrap_err();
        assert!(matches!(error, SpoolError::Unwritable(_)), "{error:?}");
        // Claiming from it finds nothing, and is not an error.
        assert!(claim(&not_a_dir, now_ms()).records.is_empty());
    }

    #[test]
    fn opting_out_deletes_every_spool_file() {
        let dir = temp_dir("delete");
        leftover_file(&dir, &["a"], &[]);
        let live = SpoolFile::create(&dir).unwrap();
        fs::write(dir.join("user-uuid"), "keep me").unwrap();
        let (removed, problems) = delete_all(&dir);
        assert_eq!((removed, problems), (2, vec![]));
        assert!(spool_files(&dir).is_empty());
        assert!(!live.path().exists());
        assert!(dir.join("user-uuid").exists());
        assert!(claim(&dir, now_ms()).records.is_empty());
    }

    #[test]
    fn concurrent_claimers_in_threads_get_disjoint_sets() {
        let dir = temp_dir("threads");
        let mut all = Vec::new();
        for file in 0..20 {
            let ids: Vec<String> = (0..5).map(|n| format!("f{file}r{n}")).collect();
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            leftover_file(&dir, &refs, &[]);
            all.extend(ids);
        }
        let barrier = Arc::new(Barrier::new(10));
        let claimers: Vec<_> = (0..10)
            .map(|_| {
                let dir = dir.0.clone();
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    let claim = claim(&dir, now_ms());
                    let got: Vec<String> = claim
                        .records
                        .iter()
                        .map(|record| record.event_id.clone())
                        .collect();
                    // Hold the claimed files until every thread has claimed.
                    barrier.wait();
                    got
                })
            })
            .collect();
        let mut got: Vec<String> = claimers
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        got.sort();
        all.sort();
        assert_eq!(got, all, "each record claimed exactly once");
    }

    const CHILD_DIR: &str = "TELEMETRY_SPOOL_TEST_CHILD_DIR";

    /// Run by `concurrent_claimers_in_processes_get_disjoint_sets` in
    /// child processes: claims, writes what it got, removes the claimed
    /// files (as after delivery), exits.
    #[test]
    #[ignore = "a child process of another test"]
    fn child_claims_and_reports() {
        let Some(dir) = std::env::var_os(CHILD_DIR) else {
            return;
        };
        let dir = PathBuf::from(dir);
        let claim = claim(&dir, now_ms());
        let got: Vec<&str> = ids(&claim.records);
        let out = dir.join(format!("out-{}", std::process::id()));
        fs::write(out, got.join("\n")).unwrap();
        for file in claim.files {
            file.remove().unwrap();
        }
    }

    #[test]
    fn concurrent_claimers_in_processes_get_disjoint_sets() {
        let dir = temp_dir("processes");
        let mut all = Vec::new();
        for file in 0..30 {
            let ids: Vec<String> = (0..3).map(|n| format!("f{file}r{n}")).collect();
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            leftover_file(&dir, &refs, &[]);
            all.extend(ids);
        }
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = (0..10)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args([
                        "--exact",
                        "delivery::spool::tests::child_claims_and_reports",
                        "--ignored",
                        "--test-threads=1",
                    ])
                    .env(CHILD_DIR, &dir.0)
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
        let mut got = Vec::new();
        let mut reports = 0;
        for entry in fs::read_dir(&dir.0).unwrap() {
            let path = entry.unwrap().path();
            if file_name(&path).is_some_and(|name| name.starts_with("out-")) {
                reports += 1;
                let text = fs::read_to_string(&path).unwrap();
                got.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_owned));
            }
        }
        assert_eq!(reports, 10);
        got.sort();
        all.sort();
        assert_eq!(got, all, "each record claimed by exactly one process");
        assert!(spool_files(&dir).is_empty());
    }
}
