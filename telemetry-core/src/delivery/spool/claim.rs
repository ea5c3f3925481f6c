//! Claiming leftovers: stale temporaries removed, files beyond the bound
//! dropped (counted), the rest merged into one file of this process in
//! write order, trimmed to the bound, then read (see "Leftovers: bounded
//! whatever is on disk" in [`crate::delivery::spool`]).

use super::file::{open_existing, Held};
use super::read::{self, count_records, is_ack, Lines, Raw};
use super::{
    is_spool_name, is_temp_name, order_of, spool_name, Drops, Leftover, SpoolError, SpoolFile,
    MAX_BYTES, MAX_RECORDS,
};
use crate::files;
use std::fs;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A temporary that is empty and unlocked may be one being created right
/// now (between its creation and its lock); it is stale past this age.
const EMPTY_TEMP_AGE: Duration = Duration::from_secs(60);
/// Without `flock` (not unix), a file unchanged for this long is taken as
/// a leftover.
#[cfg(not(unix))]
const STALE_AFTER: Duration = Duration::from_secs(60 * 60);

/// How much one claim keeps and how long it may work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimLimits {
    /// Most records kept over all files (default [`MAX_RECORDS`]).
    pub records: usize,
    /// Most bytes kept over all files (default [`MAX_BYTES`]).
    pub bytes: u64,
    /// How long removing, dropping and merging files may take; what is not
    /// reached is left for a later run. Trimming and reading the merged
    /// file (bounded by `bytes`) come after, whatever the time.
    pub time: Duration,
}

impl Default for ClaimLimits {
    fn default() -> ClaimLimits {
        ClaimLimits {
            records: MAX_RECORDS,
            bytes: MAX_BYTES as u64,
            time: Duration::from_millis(250),
        }
    }
}

/// What [`claim`] took for this process.
#[derive(Debug, Default)]
pub struct Claim {
    /// The merged leftovers, renamed to a name of this process (keeping
    /// their order) and locked; `None` when nothing is pending. Acknowledge
    /// delivered records with [`SpoolFile::append_ack`]; remove it once all
    /// its records are delivered. Left as it is, it is claimed again by a
    /// later process after this one ends.
    pub file: Option<SpoolFile>,
    /// Its pending records in write order (empty unless asked to read).
    pub records: Vec<Leftover>,
    /// What was dropped.
    pub drops: Drops,
    /// Files that could not be claimed or read, by reason.
    pub problems: Vec<SpoolError>,
    /// Leftover files merged into [`file`](Claim::file) (itself included).
    pub merged: usize,
    /// Leftover files removed whole: beyond the bound, or with nothing
    /// pending.
    pub removed: usize,
    /// Stale temporaries removed.
    pub temps_removed: usize,
    /// The time ran out: some files were left for a later run.
    pub unfinished: bool,
}

/// Claims the leftovers in `dir` for this process within `limits`, and
/// reads their pending records when `read` (a process that cannot send
/// only merges and trims). `now_ms` is the current time in epoch
/// milliseconds (for [`MAX_AGE`](super::MAX_AGE) and
/// [`MAX_AHEAD`](super::MAX_AHEAD)). A missing dir is not a problem:
/// nothing to claim.
pub fn claim(dir: &Path, now_ms: u64, limits: &ClaimLimits, read: bool) -> Claim {
    let deadline = Instant::now().checked_add(limits.time);
    let out_of_time = || deadline.is_some_and(|deadline| Instant::now() >= deadline);
    let mut claim = Claim::default();
    let Ok(entries) = fs::read_dir(dir) else {
        return claim;
    };
    let mut temps = Vec::new();
    let mut names: Vec<(u64, PathBuf, u64)> = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if is_temp_name(&path) {
            temps.push(path);
        } else if is_spool_name(&path) {
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    claim.problems.push(SpoolError::Symlink);
                }
                Ok(meta) if !meta.is_file() => claim.problems.push(SpoolError::NotAFile),
                Ok(meta) if !files::is_ours(&meta) => claim.problems.push(SpoolError::NotOurs),
                Ok(meta) => names.push((order_of(&path), path, meta.len())),
                Err(_) => {}
            }
        }
    }
    for temp in temps {
        if out_of_time() {
            claim.unfinished = true;
            break;
        }
        if remove_if_stale(&temp) {
            claim.temps_removed += 1;
        }
    }
    // Newest first: plan what is kept by size alone. The file that the
    // bound cuts through is kept too, its head trimmed away.
    names.sort_by(|a, b| b.cmp(a));
    let byte_bound = limits.bytes.min(files::fsize_room(0));
    let mut keep: Vec<(PathBuf, Option<u64>)> = Vec::new();
    let mut kept_bytes = 0u64;
    let mut rest = names.into_iter();
    for (_, path, size) in rest.by_ref() {
        if out_of_time() {
            claim.unfinished = true;
            break;
        }
        if !is_leftover_now(&path) {
            continue;
        }
        if keep.is_empty() || kept_bytes + size <= byte_bound {
            kept_bytes += size;
            keep.push((path, None));
            continue;
        }
        match byte_bound.checked_sub(kept_bytes) {
            Some(room) if room > 0 => keep.push((path, Some(room))),
            _ => drop_whole(&path, deadline, &mut claim),
        }
        break;
    }
    // Older than the bound: dropped whole, counted.
    for (_, path, _) in rest {
        if out_of_time() {
            claim.unfinished = true;
            break;
        }
        drop_whole(&path, deadline, &mut claim);
    }
    // Oldest first into the oldest.
    keep.reverse();
    let mut merged: Option<SpoolFile> = None;
    for (path, room) in keep {
        if out_of_time() {
            claim.unfinished = true;
            break;
        }
        let mut file = match claim_one(dir, &path) {
            Ok(Some(file)) => file,
            Ok(None) => continue,
            Err(problem) => {
                claim.problems.push(problem);
                continue;
            }
        };
        if let Some(room) = room {
            // Cut through by the bound: only its newest lines fit.
            if let Err(problem) = trim(&mut file, limits.records, room, &mut claim.drops) {
                claim.problems.push(problem);
            }
        }
        match merged.as_mut() {
            None => {
                end_with_newline(&mut file);
                merged = Some(file);
                claim.merged += 1;
            }
            Some(into) => match append_file(into, file, &mut claim.drops) {
                Ok(()) => claim.merged += 1,
                Err(problem) => claim.problems.push(problem),
            },
        }
    }
    let Some(mut merged) = merged else {
        return claim;
    };
    if !read {
        if let Err(problem) = trim(&mut merged, limits.records, byte_bound, &mut claim.drops) {
            claim.problems.push(problem);
        }
        if merged.is_empty() {
            if merged.remove().is_ok() {
                claim.removed += 1;
            }
            return claim;
        }
        claim.file = Some(merged);
        return claim;
    }
    // Read within twice the bound (acknowledged lines take room too), then
    // kept within it.
    let window = (
        limits.records.saturating_mul(2),
        byte_bound.saturating_mul(2),
    );
    if let Err(problem) = trim(&mut merged, window.0, window.1, &mut claim.drops) {
        claim.problems.push(problem);
    }
    match read::read_pending(&mut merged.file, now_ms, &mut claim.drops) {
        Ok(records) => claim.records = records,
        Err(problem) => {
            // Claimed but unreadable: keep it for a later run.
            claim.problems.push(problem);
            return claim;
        }
    }
    keep_newest(
        &mut claim.records,
        limits.records,
        byte_bound,
        &mut claim.drops,
    );
    if claim.records.is_empty() {
        match merged.remove() {
            Ok(()) => claim.removed += 1,
            Err(problem) => claim.problems.push(problem),
        }
        return claim;
    }
    // Compacted to what is pending: acknowledged records and
    // acknowledgements would otherwise take the room of pending ones.
    let pending_len: usize = claim
        .records
        .iter()
        .map(|record| record.line.len() + 1)
        .sum();
    if pending_len as u64 != merged.len() {
        let mut content = Vec::with_capacity(pending_len);
        for record in &claim.records {
            content.extend_from_slice(record.line.as_bytes());
            content.push(b'\n');
        }
        if let Err(problem) = merged.replace(&content) {
            claim.problems.push(problem);
        }
    }
    claim.file = Some(merged);
    claim
}

/// Whether the file at `path` is a leftover right now (no process holds
/// it); the probe's lock goes at once.
fn is_leftover_now(path: &Path) -> bool {
    open_existing(path).is_ok_and(|file| is_leftover(&file))
}

/// Claims a file beyond the bound and removes it, counting its records.
fn drop_whole(path: &Path, deadline: Option<Instant>, claim: &mut Claim) {
    let Ok(Some(mut file)) = claim_one(path.parent().unwrap_or(Path::new(".")), path) else {
        return;
    };
    let len = file.len;
    let records = count_records(&mut file.file, 0, len, deadline);
    match file.remove() {
        Ok(()) => {
            claim.removed += 1;
            claim.drops.over_limit += records;
        }
        Err(problem) => claim.problems.push(problem),
    }
}

/// Removes a temporary that no process holds: written to (a writer locks
/// before it writes), or empty and old.
fn remove_if_stale(path: &Path) -> bool {
    // Looked at before it is opened: a young empty one may be between its
    // creation and its lock, and even a probe's lock would be in its way.
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    let old = meta
        .modified()
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .is_some_and(|age| age >= EMPTY_TEMP_AGE);
    if !meta.is_file() || !files::is_ours(&meta) || (meta.len() == 0 && !old) {
        return false;
    }
    let Ok(file) = open_existing(path) else {
        return false;
    };
    if !files::try_lock(&file) {
        return false;
    }
    // Still the file we locked: remove it while holding its lock.
    files::names_file(&file, path) && fs::remove_file(path).is_ok()
}

/// A file that was cut mid-line (its writer died) gets a newline, so that
/// what is appended after it starts a line of its own.
fn end_with_newline(file: &mut SpoolFile) {
    if file.len == 0 {
        return;
    }
    let mut last = [0u8];
    let read = file
        .file
        .seek(SeekFrom::Start(file.len - 1))
        .and_then(|_| (*file.file).read_exact(&mut last));
    if read.is_ok() && last[0] != b'\n' {
        let _ = file.append_bytes(b"\n");
    }
}

/// Copies `from`'s lines to the end of `into`, then removes `from`. What
/// would pass `RLIMIT_FSIZE` is dropped and counted.
fn append_file(into: &mut SpoolFile, from: SpoolFile, drops: &mut Drops) -> Result<(), SpoolError> {
    let mut from = from;
    let len = from.len;
    if len > 0 {
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        from.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| (*from.file).read_to_end(&mut bytes))
            .map_err(|error| SpoolError::Io(error.kind()))?;
        if bytes.last() != Some(&b'\n') {
            bytes.push(b'\n');
        }
        match into.append_bytes(&bytes) {
            Ok(()) => {}
            Err(SpoolError::FileSizeLimit) => {
                drop(bytes);
                drops.file_size_limit += count_records(&mut from.file, 0, len, None);
            }
            Err(problem) => return Err(problem),
        }
    }
    from.remove()
}

/// Keeps the newest records (by write order) within `records` and `bytes`,
/// counting the others as over the bound.
fn keep_newest(pending: &mut Vec<Leftover>, records: usize, bytes: u64, drops: &mut Drops) {
    let mut kept_bytes = 0u64;
    let mut first = pending.len();
    for (index, record) in pending.iter().enumerate().rev() {
        let len = record.line.len() as u64 + 1;
        if pending.len() - index > records || kept_bytes + len > bytes {
            break;
        }
        kept_bytes += len;
        first = index;
    }
    drops.over_limit += first;
    pending.drain(..first);
}

/// Drops the oldest lines of the merged file until it holds at most
/// `records` records and `bytes` bytes.
fn trim(
    file: &mut SpoolFile,
    records: usize,
    bytes: u64,
    drops: &mut Drops,
) -> Result<(), SpoolError> {
    let len = file.len;
    // Only the lines that could be kept are looked at; what is before them
    // goes in any case.
    let window = bytes.saturating_add(super::MAX_LINE_LEN as u64 + 1);
    let scan_from = len.saturating_sub(window);
    file.file
        .seek(SeekFrom::Start(scan_from))
        .map_err(|error| SpoolError::Io(error.kind()))?;
    let mut starts: Vec<(u64, bool)> = Vec::new();
    {
        let mut lines = Lines::new(&mut *file.file, scan_from);
        if scan_from > 0 {
            // The line the window starts in is cut: skip it.
            let _ = lines.next_line();
        }
        while let Some(raw) = lines.next_line() {
            match raw {
                Raw::Line(at, line) => starts.push((at, !is_ack(line))),
                Raw::TooLong(at) => starts.push((at, true)),
            }
        }
    }
    let first_whole = starts.first().map_or(len, |&(at, _)| at);
    let mut cut = first_whole;
    let mut kept = 0usize;
    for &(at, is_record) in starts.iter().rev() {
        if len - at > bytes || (is_record && kept >= records) {
            break;
        }
        kept += usize::from(is_record);
        cut = at;
    }
    if cut == 0 {
        return Ok(());
    }
    if cut >= len {
        drops.over_limit += count_records(&mut file.file, 0, len, None);
        return file.truncate();
    }
    let dropped = count_records(&mut file.file, 0, cut, None);
    file.rewrite(&[(cut, len - cut)])?;
    drops.over_limit += dropped;
    Ok(())
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
    if !files::is_ours(&meta) {
        return Err(SpoolError::NotOurs);
    }
    if !is_leftover(&file) {
        return Ok(None);
    }
    claim_locked(dir, path, file)
}

/// [`claim_one`] once `file` (opened from `path`) is locked by this
/// process: renames `path` to a name of this process with the same order,
/// unless `path` no longer names `file` (its owner compacted it, or another
/// claimer took it).
pub(super) fn claim_locked(
    dir: &Path,
    path: &Path,
    file: Held,
) -> Result<Option<SpoolFile>, SpoolError> {
    // An owner releases a file's lock only once its name is gone or names
    // the owner's new (locked) file, so a name that still names the file
    // we locked belongs to no living process; without this check, the
    // rename below could move a live file that replaced the one we opened.
    if !files::names_file(&file, path) {
        return Ok(None);
    }
    let target = spool_name(dir, order_of(path));
    match fs::rename(path, &target) {
        Ok(()) => {}
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(SpoolError::from_write(&error)),
    }
    // The name we opened may have been claimed, and reused, between our
    // open and our rename: make sure we renamed the file we hold.
    if !files::names_file(&file, &target) {
        return Ok(None);
    }
    Ok(Some(SpoolFile::claimed(file, target)))
}

/// Whether no living process owns the file (its lock can be taken).
#[cfg(unix)]
pub(super) fn is_leftover(file: &Held) -> bool {
    files::try_lock(file)
}

#[cfg(not(unix))]
pub(super) fn is_leftover(file: &Held) -> bool {
    file.metadata()
        .ok()
        .and_then(|meta| meta.modified().ok())
        .and_then(|modified| modified.elapsed().ok())
        .is_some_and(|age| age >= STALE_AFTER)
}
