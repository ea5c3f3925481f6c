//! Reading spool files: the pending records of a (bounded) file, and line
//! counts of the parts that are dropped unread. Lines are found with the
//! C library's `memchr`, a line longer than a record may be is skipped
//! without being held, and nothing but the kept records stays in memory.

use super::{Drops, SpoolError, MAX_AGE, MAX_AHEAD, MAX_LINE_LEN};
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::time::Instant;

/// One leftover record, read from a claimed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// Its `event_id`.
    pub event_id: String,
    /// Its wire JSON, as spooled.
    pub line: String,
    /// Its `event_timestamp`, epoch milliseconds.
    pub timestamp_ms: u64,
}

/// One line of a spool file, as [`Lines`] gives it.
pub(super) enum Raw<'a> {
    /// A line (without its newline) and its offset.
    Line(u64, &'a [u8]),
    /// A line longer than [`MAX_LINE_LEN`], skipped; its offset.
    TooLong(u64),
}

/// The lines of a file from an offset, one at a time.
pub(super) struct Lines<R> {
    reader: BufReader<R>,
    offset: u64,
    line: Vec<u8>,
}

impl<R: Read> Lines<R> {
    pub(super) fn new(inner: R, offset: u64) -> Lines<R> {
        Lines {
            reader: BufReader::with_capacity(64 * 1024, inner),
            offset,
            line: Vec::new(),
        }
    }

    /// The next line; `None` at the end (or on a read error). A last line
    /// without its newline is given too.
    pub(super) fn next_line(&mut self) -> Option<Raw<'_>> {
        self.line.clear();
        let start = self.offset;
        let mut too_long = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(_) => return None,
            };
            if available.is_empty() {
                if self.offset == start {
                    return None;
                }
                break;
            }
            let (used, done) = match find_newline(available) {
                Some(at) => (at + 1, true),
                None => (available.len(), false),
            };
            if !too_long {
                if self.line.len() + used > MAX_LINE_LEN + 1 {
                    too_long = true;
                    self.line.clear();
                } else {
                    self.line.extend_from_slice(&available[..used]);
                }
            }
            self.reader.consume(used);
            self.offset += used as u64;
            if done {
                break;
            }
        }
        if too_long {
            return Some(Raw::TooLong(start));
        }
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
        }
        Some(Raw::Line(start, &self.line))
    }
}

/// The first newline in `bytes`.
fn find_newline(bytes: &[u8]) -> Option<usize> {
    find_byte(bytes, b'\n')
}

/// The first `byte` in `bytes`, by the C library's `memchr` (fast even in
/// an unoptimised build).
fn find_byte(bytes: &[u8], byte: u8) -> Option<usize> {
    #[cfg(unix)]
    {
        // SAFETY: `memchr` reads at most `bytes.len()` bytes of the slice.
        let found = unsafe { libc::memchr(bytes.as_ptr().cast(), i32::from(byte), bytes.len()) };
        if found.is_null() {
            None
        } else {
            Some(found as usize - bytes.as_ptr() as usize)
        }
    }
    #[cfg(not(unix))]
    {
        bytes.iter().position(|&found| found == byte)
    }
}

/// Whether a line is an acknowledgement (by its start; records start with
/// `{"event"`).
pub(super) fn is_ack(line: &[u8]) -> bool {
    line.starts_with(b"{\"ack\"")
}

/// Records in the lines of `file` from `start` to `end`, less those that
/// an acknowledgement among them names: what dropping that part drops.
/// Reads in large chunks and looks only at line starts (the C library's
/// `memchr` finds them), so that counting a full file costs a few
/// milliseconds. Stops counting at `deadline` (the count is then a lower
/// bound).
pub(super) fn count_records(
    file: &mut File,
    start: u64,
    end: u64,
    deadline: Option<Instant>,
) -> usize {
    const CHUNK: usize = 256 * 1024;
    if file.seek(SeekFrom::Start(start)).is_err() {
        return 0;
    }
    let mut left = end.saturating_sub(start);
    let mut chunk = vec![0u8; CHUNK];
    let mut records = 0usize;
    let mut acked = 0usize;
    // At a line's start; inside an acknowledgement (its commas count ids);
    // the first bytes of the current line, to tell an acknowledgement.
    let mut at_start = true;
    let mut in_ack = false;
    let mut head: Vec<u8> = Vec::with_capacity(8);
    while left > 0 {
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            break;
        }
        let want = usize::try_from(left.min(CHUNK as u64)).unwrap_or(CHUNK);
        let read = match file.read(&mut chunk[..want]) {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        left -= read as u64;
        let mut rest = &chunk[..read];
        while !rest.is_empty() {
            if at_start {
                at_start = false;
                head.clear();
                in_ack = false;
            }
            let line_end = find_newline(rest);
            let part = &rest[..line_end.unwrap_or(rest.len())];
            if head.len() < 6 {
                let take = (6 - head.len()).min(part.len());
                head.extend_from_slice(&part[..take]);
                if head.len() == 6 || line_end.is_some() {
                    if is_ack(&head) {
                        in_ack = true;
                        acked += 1;
                    } else if !head.iter().all(u8::is_ascii_whitespace) {
                        records += 1;
                    }
                }
            }
            if in_ack {
                acked += count_byte(part, b',');
            }
            match line_end {
                Some(at) => {
                    rest = &rest[at + 1..];
                    at_start = true;
                }
                None => rest = &[],
            }
        }
    }
    records.saturating_sub(acked)
}

/// How many times `byte` occurs in `bytes`.
fn count_byte(bytes: &[u8], byte: u8) -> usize {
    let mut count = 0;
    let mut rest = bytes;
    while let Some(at) = find_byte(rest, byte) {
        count += 1;
        rest = &rest[at + 1..];
    }
    count
}

/// The pending records of a whole file, in file (write) order: acknowledged
/// records, duplicates, corrupt lines, expired records and records stamped
/// too far ahead are left out (counted in `drops`). `now_ms` 0: nothing is
/// expired or ahead.
pub(super) fn read_pending(
    file: &mut File,
    now_ms: u64,
    drops: &mut Drops,
) -> Result<Vec<Leftover>, SpoolError> {
    file.seek(SeekFrom::Start(0))
        .map_err(|error| SpoolError::Io(error.kind()))?;
    let oldest = now_ms.saturating_sub(u64::try_from(MAX_AGE.as_millis()).unwrap_or(u64::MAX));
    let newest = if now_ms == 0 {
        u64::MAX
    } else {
        now_ms.saturating_add(u64::try_from(MAX_AHEAD.as_millis()).unwrap_or(u64::MAX))
    };
    let mut records = Vec::new();
    let mut acked: HashSet<String> = HashSet::new();
    let mut lines = Lines::new(&mut *file, 0);
    while let Some(raw) = lines.next_line() {
        let line = match raw {
            Raw::TooLong(_) => {
                drops.corrupt += 1;
                continue;
            }
            Raw::Line(_, line) => line,
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if is_ack(line) {
            match ack_ids(line) {
                Some(ids) => acked.extend(ids),
                None => drops.corrupt += 1,
            }
            continue;
        }
        let Some((event_id, timestamp_ms)) = parse_record(line) else {
            drops.corrupt += 1;
            continue;
        };
        let Ok(text) = std::str::from_utf8(line) else {
            drops.corrupt += 1;
            continue;
        };
        records.push(Leftover {
            event_id,
            line: text.trim().to_owned(),
            timestamp_ms,
        });
    }
    let mut seen = HashSet::with_capacity(records.len());
    records.retain(|record| {
        (acked.is_empty() || !acked.contains(&record.event_id))
            && seen.insert(record.event_id.clone())
    });
    let before = records.len();
    records.retain(|record| record.timestamp_ms >= oldest);
    drops.expired += before - records.len();
    let before = records.len();
    records.retain(|record| record.timestamp_ms <= newest);
    drops.invalid_timestamp += before - records.len();
    Ok(records)
}

fn ack_ids(line: &[u8]) -> Option<Vec<String>> {
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    value
        .get("ack")?
        .as_array()?
        .iter()
        .map(|id| id.as_str().map(str::to_owned))
        .collect()
}

/// A record line's `event_id` and `event_timestamp`: read from where
/// [`Record::to_json`](crate::Record::to_json) puts them (the timestamp
/// second, the id last: common fields are written last) when the line has
/// that shape, else by parsing it. The spool's files are this crate's own
/// (0600, checked ours); the collector checks each body anyway.
fn parse_record(line: &[u8]) -> Option<(String, u64)> {
    record_fields_in_place(line).or_else(|| parse_record_json(line))
}

/// The fast path of [`parse_record`]: no JSON parse, a few short scans.
fn record_fields_in_place(line: &[u8]) -> Option<(String, u64)> {
    const HEAD: &[u8] = b"{\"event\":\"";
    const STAMP: &[u8] = b"\",\"event_timestamp\":";
    const ID: &[u8] = b"\"event_id\":\"";
    let rest = line.strip_prefix(HEAD)?;
    let quote = find_byte(rest, b'"')?;
    if quote == 0 || find_byte(&rest[..quote], b'\\').is_some() {
        return None;
    }
    let rest = rest[quote..].strip_prefix(STAMP)?;
    let digits = rest.iter().take_while(|byte| byte.is_ascii_digit()).count();
    if digits == 0 || digits > 19 || rest.get(digits) != Some(&b',') {
        return None;
    }
    let timestamp_ms = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    let body = line.strip_suffix(b"\"}}")?;
    // The id runs from the last quote before the end: `"event_id":"<id>`.
    let open = find_last_byte(body, b'"')?;
    let id = &body[open + 1..];
    if !body[..=open].ends_with(ID) || id.is_empty() || id.len() > 64 {
        return None;
    }
    if !id
        .iter()
        .all(|byte| byte.is_ascii_alphanumeric() || *byte == b'-')
    {
        return None;
    }
    Some((String::from_utf8(id.to_vec()).ok()?, timestamp_ms))
}

/// The last `byte` in `bytes`.
fn find_last_byte(bytes: &[u8], byte: u8) -> Option<usize> {
    #[cfg(all(unix, target_os = "linux"))]
    {
        // SAFETY: `memrchr` reads at most `bytes.len()` bytes of the slice.
        let found = unsafe { libc::memrchr(bytes.as_ptr().cast(), i32::from(byte), bytes.len()) };
        if found.is_null() {
            None
        } else {
            Some(found as usize - bytes.as_ptr() as usize)
        }
    }
    #[cfg(not(all(unix, target_os = "linux")))]
    {
        bytes.iter().rposition(|&found| found == byte)
    }
}

/// The slow path of [`parse_record`]: the line parsed as JSON.
fn parse_record_json(line: &[u8]) -> Option<(String, u64)> {
    #[derive(serde::Deserialize)]
    struct Properties<'a> {
        #[serde(borrow)]
        event_id: std::borrow::Cow<'a, str>,
    }
    #[derive(serde::Deserialize)]
    struct Wire<'a> {
        #[serde(borrow)]
        event: std::borrow::Cow<'a, str>,
        event_timestamp: u64,
        #[serde(borrow)]
        properties: Properties<'a>,
    }
    let wire: Wire<'_> = serde_json::from_slice(line).ok()?;
    if wire.properties.event_id.is_empty() || wire.event.is_empty() {
        return None;
    }
    Some((wire.properties.event_id.into_owned(), wire.event_timestamp))
}
