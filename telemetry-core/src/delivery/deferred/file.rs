//! The deferred spool: one file shared by every process of the app,
//! `telemetry-deferred.jsonl`, one record's wire JSON a line. Every change
//! to it (an append, a compaction, the removal of uploaded records) is
//! made while holding the lock of a separate file,
//! `telemetry-deferred.lock`, which is never replaced: so a rewrite may
//! rename a new file over the spool without an appender writing into the
//! old one.

use super::super::dropped::{DropCounts, DropReason};
use crate::delivery::spool::{MAX_BYTES, MAX_RECORDS};
use crate::delivery::RecordBound;
use crate::files::{self, OpenError};
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Most bytes read from the end of the deferred spool file: the newest
/// records are at its end.
pub(crate) const READ_LIMIT: u64 = 8 * 1024 * 1024;

/// The shared spool file.
pub(crate) const DEFERRED_FILE: &str = "telemetry-deferred.jsonl";
/// The file whose lock guards every change to the spool.
pub(crate) const DEFERRED_LOCK_FILE: &str = "telemetry-deferred.lock";

/// Most records and bytes the spool holds, [`MAX_RECORDS`] and
/// [`MAX_BYTES`] as for a process's own spool; past them the oldest go
/// (counted as [`DropReason::SpoolBound`]).
pub(crate) const SPOOL_BOUND: RecordBound = RecordBound {
    max_records: MAX_RECORDS,
    max_bytes: MAX_BYTES,
};

/// Holds the spool's lock until dropped.
struct Locked(#[allow(dead_code)] File);

fn lock(dir: &Path) -> io::Result<Locked> {
    let file = files::open_append(&dir.join(DEFERRED_LOCK_FILE)).map_err(to_io)?;
    if files::lock_exclusive(&file) {
        Ok(Locked(file))
    } else {
        Err(io::Error::from(ErrorKind::WouldBlock))
    }
}

fn to_io(error: OpenError) -> io::Error {
    match error {
        OpenError::Missing => io::Error::from(ErrorKind::NotFound),
        OpenError::Refused(_) => io::Error::from(ErrorKind::PermissionDenied),
        OpenError::Io(kind) => io::Error::from(kind),
    }
}

/// Appends one record (its wire JSON, one line) under the lock. When the
/// file would pass the bound's bytes, it is first compacted to 3/4 of the
/// bound, the oldest records dropped and counted. One `write`, no fsync.
pub(crate) fn append(
    dir: &Path,
    record: &str,
    bound: RecordBound,
    drops: &DropCounts,
) -> io::Result<()> {
    let mut line = String::with_capacity(record.len() + 1);
    line.push_str(record);
    line.push('\n');
    let _locked = lock(dir)?;
    let path = dir.join(DEFERRED_FILE);
    let mut file = files::open_append(&path).map_err(to_io)?;
    let size = file.metadata()?.len();
    if size.saturating_add(line.len() as u64) > bound.max_bytes as u64 {
        let three_quarters = RecordBound {
            max_records: bound.max_records.saturating_mul(3) / 4,
            max_bytes: (bound.max_bytes.saturating_mul(3) / 4).saturating_sub(line.len()),
        };
        let lines = read_lines(dir)?;
        let kept = newest_within(&lines, three_quarters);
        drops.add(DropReason::SpoolBound, (lines.len() - kept.len()) as u64);
        write_lines(dir, kept)?;
        file = files::open_append(&path).map_err(to_io)?;
    }
    // Never past the process's file-size limit: the record is dropped and
    // counted instead.
    if line.len() as u64 > files::limits::fsize_room(file.metadata()?.len()) {
        drops.add(DropReason::FileSizeLimit, 1);
        return Ok(());
    }
    file.write_all(line.as_bytes())
}

/// The records waiting, oldest first, within the bound: older ones are
/// dropped from the file and counted. Corrupt or cut lines are dropped.
pub(crate) fn take_within(
    dir: &Path,
    bound: RecordBound,
    drops: &DropCounts,
) -> io::Result<Vec<String>> {
    let _locked = lock(dir)?;
    let lines = read_lines(dir)?;
    let kept = newest_within(&lines, bound);
    if kept.len() < lines.len() {
        drops.add(DropReason::SpoolBound, (lines.len() - kept.len()) as u64);
        write_lines(dir, kept)?;
    }
    Ok(kept.to_vec())
}

/// Removes these records (uploaded, or refused for good) from the spool,
/// keeping everything else, records appended meanwhile included.
pub(crate) fn remove(dir: &Path, settled: &HashSet<&str>) -> io::Result<()> {
    if settled.is_empty() {
        return Ok(());
    }
    let _locked = lock(dir)?;
    let lines = read_lines(dir)?;
    let kept: Vec<String> = lines
        .into_iter()
        .filter(|line| !settled.contains(line.as_str()))
        .collect();
    write_lines(dir, &kept)
}

/// Deletes the spool unsent (an opt-out). `Ok(true)` when there was one.
pub(crate) fn delete(dir: &Path) -> io::Result<bool> {
    match std::fs::remove_file(dir.join(DEFERRED_FILE)) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

/// The records in the spool, without locking or changing anything.
#[cfg(test)]
pub(crate) fn peek(dir: &Path) -> Vec<String> {
    read_lines(dir).unwrap_or_default()
}

/// The complete, well-formed lines of the last [`READ_LIMIT`] bytes.
fn read_lines(dir: &Path) -> io::Result<Vec<String>> {
    let mut file = match files::open_file(&dir.join(DEFERRED_FILE)) {
        Ok(file) => file,
        Err(OpenError::Missing) => return Ok(Vec::new()),
        Err(error) => return Err(to_io(error)),
    };
    let size = file.metadata()?.len();
    let start = size.saturating_sub(READ_LIMIT);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(READ_LIMIT).read_to_end(&mut bytes)?;
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if start > 0 {
        // Started inside a line: drop its tail.
        let from = text.find('\n').map_or(text.len(), |at| at + 1);
        text.drain(..from);
    }
    // A last line without its newline was cut (a power cut): skipped.
    let complete = text.rfind('\n').map_or(0, |at| at + 1);
    Ok(text[..complete]
        .lines()
        .filter(|line| serde_json::from_str::<serde::de::IgnoredAny>(line).is_ok())
        .map(str::to_owned)
        .collect())
}

/// The newest lines that fit the bound, oldest first.
fn newest_within(lines: &[String], bound: RecordBound) -> &[String] {
    let mut bytes = 0usize;
    let mut first = lines.len();
    for (at, line) in lines.iter().enumerate().rev() {
        let len = line.len() + 1;
        if lines.len() - at > bound.max_records || bytes + len > bound.max_bytes {
            break;
        }
        bytes += len;
        first = at;
    }
    &lines[first..]
}

/// Replaces the spool with `lines` (removes it when there are none):
/// written beside it, synced and renamed over it (rare: compaction and
/// uploads only).
fn write_lines(dir: &Path, lines: &[String]) -> io::Result<()> {
    if lines.is_empty() {
        return delete(dir).map(drop);
    }
    let mut contents = String::with_capacity(lines.iter().map(|line| line.len() + 1).sum());
    for line in lines {
        contents.push_str(line);
        contents.push('\n');
    }
    files::replace(dir, DEFERRED_FILE, contents.as_bytes())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;

    fn record(n: usize) -> String {
        format!("{{\"event\":\"command\",\"n\":{n}}}")
    }

    #[test]
    fn appends_from_many_threads_all_land_in_one_file() {
        let dir = temp_dir("deferred-append");
        let drops = DropCounts::default();
        std::thread::scope(|scope| {
            for t in 0..4 {
                let (dir, drops) = (&dir, &drops);
                scope.spawn(move || {
                    for n in 0..25 {
                        append(dir, &record(t * 100 + n), SPOOL_BOUND, drops).unwrap();
                    }
                });
            }
        });
        assert_eq!(peek(&dir).len(), 100);
        assert!(drops.is_empty());
        let names: Vec<_> = std::fs::read_dir(&*dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(
            names.iter().filter(|name| name.ends_with(".jsonl")).count(),
            1
        );
    }

    #[test]
    fn past_the_bound_the_oldest_go_and_are_counted() {
        let dir = temp_dir("deferred-bound");
        let drops = DropCounts::default();
        let bound = RecordBound {
            max_records: 8,
            max_bytes: 10 * (record(0).len() + 1),
        };
        for n in 0..30 {
            append(&dir, &record(n), bound, &drops).unwrap();
        }
        let size = std::fs::metadata(dir.join(DEFERRED_FILE)).unwrap().len();
        assert!(size <= bound.max_bytes as u64);
        let kept = take_within(&dir, bound, &drops).unwrap();
        assert!(kept.len() <= 8);
        assert_eq!(kept.last().unwrap(), &record(29), "the newest stay");
        let dropped = drops.take()["spool_bound"];
        assert_eq!(dropped as usize + kept.len(), 30);
    }

    #[test]
    fn removal_keeps_records_appended_meanwhile_and_skips_cut_lines() {
        let dir = temp_dir("deferred-remove");
        let drops = DropCounts::default();
        for n in 0..3 {
            append(&dir, &record(n), SPOOL_BOUND, &drops).unwrap();
        }
        let taken = take_within(&dir, SPOOL_BOUND, &drops).unwrap();
        append(&dir, &record(3), SPOOL_BOUND, &drops).unwrap();
        // A line cut by a power cut, then a later append.
        let mut file = files::open_append(&dir.join(DEFERRED_FILE)).unwrap();
        file.write_all(b"{\"event\":\"comm").unwrap();
        let settled: HashSet<&str> = taken.iter().map(String::as_str).collect();
        remove(&dir, &settled).unwrap();
        assert_eq!(peek(&dir), vec![record(3)]);
        remove(&dir, &HashSet::from([record(3).as_str()])).unwrap();
        assert!(!dir.join(DEFERRED_FILE).exists(), "empty: removed");
        assert!(!delete(&dir).unwrap());
    }
}
