//! The local history: every record that left this machine, as it went on
//! the wire, with the time it was sent and the endpoint's host, so that a
//! user can check after the fact what was sent (`telemetry show`).
//!
//! One JSON object a line in [`HISTORY_FILE`] in the config dir (mode
//! 0600, opened without following a link, refused when another user's or
//! writable by others, as the other files there): `{"sent_at":
//! "2026-01-02T03:04:05.678Z", "host": "collector.example", "record":
//! {...}}` (`host` is `null` for a record kept at the `local` level, which
//! sends nothing). The file holds at most about [`MAX_BYTES`]: an append
//! is one write, and only one that takes the file past [`MAX_BYTES`] reads
//! it and trims it in place to the newest [`MAX_RECORDS`] records within
//! [`MAX_BYTES`] (so a short run does not read the whole history every
//! time); below that size it may hold more than [`MAX_RECORDS`] records.
//! [`read`] gives the newest [`MAX_RECORDS`]. Appends
//! take an exclusive lock on the file, so two runs at once neither
//! interleave nor lose each other's lines. Writing the history never fails
//! a send: a problem is one debug line.

use super::{lock_exclusive, open_file, open_read_append, OpenError};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The history's file name in the config dir.
pub const HISTORY_FILE: &str = "telemetry-history.jsonl";
/// At most this many records are read back, and kept after a trim.
pub const MAX_RECORDS: usize = 1_000;
/// At most this many bytes are kept (1 MiB).
pub const MAX_BYTES: usize = 1 << 20;

/// One record in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When it was sent (kept, at the `local` level), RFC 3339 in UTC.
    pub sent_at: String,
    /// The endpoint's host; `None` when the record was only kept locally.
    pub host: Option<String>,
    /// The record, exactly as it went on the wire.
    pub record: serde_json::Value,
}

impl HistoryEntry {
    /// The record's `event` (`command`, `tool`, ...), or `-`.
    #[must_use]
    pub fn event(&self) -> &str {
        self.record["event"].as_str().unwrap_or("-")
    }

    /// The record's name: the tool's or the model's name, else its
    /// `action` (a command's name, a session's `start` or `end`); `-` when
    /// it has none.
    #[must_use]
    pub fn name(&self) -> &str {
        let properties = &self.record["properties"];
        ["tool_name", "model_name", "action"]
            .into_iter()
            .find_map(|key| properties[key].as_str())
            .unwrap_or("-")
    }

    /// `ok` or `error` from the record's `is_success`; `-` when it has
    /// none.
    #[must_use]
    pub fn outcome(&self) -> &str {
        match self.record["properties"]["is_success"].as_bool() {
            Some(true) => "ok",
            Some(false) => "error",
            None => "-",
        }
    }
}

/// Where the history of the app with config dir `dir` lives.
#[must_use]
pub fn path(dir: &Path) -> PathBuf {
    dir.join(HISTORY_FILE)
}

/// Appends `records` (each its wire JSON) sent now to `host`; when the
/// file passes [`MAX_BYTES`], drops the oldest beyond the bounds. `dir`
/// must be a config dir that passed the checks.
///
/// # Errors
///
/// Why the history could not be written (a refused file, a full disk).
pub(crate) fn append(dir: &Path, host: Option<&str>, records: &[String]) -> Result<(), String> {
    if records.is_empty() {
        return Ok(());
    }
    let sent_at = rfc3339(SystemTime::now());
    // The entry's other fields, as JSON; the record goes in as it was sent.
    let head = serde_json::json!({ "sent_at": sent_at, "host": host }).to_string();
    let head = head.strip_suffix('}').unwrap_or(&head);
    let mut lines = String::new();
    for record in records {
        // JSON on one line goes in as it is (checked without building
        // it); other JSON is written on one line; what is not JSON is
        // left out.
        let record = record.trim();
        let one_line =
            !record.contains('\n') && serde_json::from_str::<serde::de::IgnoredAny>(record).is_ok();
        let record = if one_line {
            record.to_owned()
        } else {
            match serde_json::from_str::<serde_json::Value>(record) {
                Ok(value) => value.to_string(),
                Err(_) => continue,
            }
        };
        lines.push_str(head);
        lines.push_str(",\"record\":");
        lines.push_str(&record);
        lines.push_str("}\n");
    }
    let path = path(dir);
    let mut file = open_read_append(&path).map_err(|error| format!("the history {error}"))?;
    if !lock_exclusive(&file) {
        return Err("the history is locked by another process".into());
    }
    let write = |file: &mut fs::File| -> std::io::Result<()> {
        // Never past the process's file-size limit (its signal would end
        // the app): what would not fit is left out of the history.
        let len = file.metadata()?.len();
        if lines.len() as u64 > super::limits::fsize_room(len) {
            return Err(std::io::Error::other("the process's file-size limit"));
        }
        file.write_all(lines.as_bytes())?;
        if len + lines.len() as u64 <= MAX_BYTES as u64 {
            return Ok(());
        }
        let mut text = String::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_string(&mut text)?;
        if let Some(kept) = trimmed(&text) {
            // Under the lock, in place: the same file, shorter.
            file.set_len(0)?;
            file.write_all(kept.as_bytes())?;
        }
        Ok(())
    };
    write(&mut file).map_err(|error| format!("the history could not be written: {error}"))
}

/// The tail of `text` within the bounds, whole lines only; `None` when it
/// is within them already.
fn trimmed(text: &str) -> Option<&str> {
    let lines = text.lines().count();
    if lines <= MAX_RECORDS && text.len() <= MAX_BYTES {
        return None;
    }
    let mut start = 0;
    let mut remaining = lines;
    while remaining > MAX_RECORDS || text.len() - start > MAX_BYTES {
        match text[start..].find('\n') {
            Some(end) => start += end + 1,
            None => start = text.len(),
        }
        remaining = remaining.saturating_sub(1);
    }
    Some(&text[start..])
}

/// The newest [`MAX_RECORDS`] records of the history, oldest first; empty
/// when there is none. Lines that are not entries (a torn write) are
/// skipped.
///
/// # Errors
///
/// Why a file at the history's name is not read (a link, another user's).
pub fn read(dir: &Path) -> Result<Vec<HistoryEntry>, String> {
    let path = path(dir);
    let mut file = match open_file(&path) {
        Ok(file) => file,
        Err(OpenError::Missing) => return Ok(Vec::new()),
        Err(error) => return Err(format!("at {} {error}", path.display())),
    };
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|error| format!("{} cannot be read: {error}", path.display()))?;
    let mut entries: Vec<HistoryEntry> = text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let older = entries.len().saturating_sub(MAX_RECORDS);
    entries.drain(..older);
    Ok(entries)
}

/// Removes the history; a missing file is not an error, a link at its
/// name is removed, not followed. `true` when there was one.
///
/// # Errors
///
/// The file is there and cannot be removed.
pub(crate) fn remove(dir: &Path) -> std::io::Result<bool> {
    match fs::remove_file(path(dir)) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

/// The host of an endpoint URL (`https://user@host:443/path` → `host`).
pub(crate) fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_owned())
}

/// `time` as RFC 3339 in UTC, to the millisecond.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let ms = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis());
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (year, month, day) = crate::record::calendar::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use crate::test_support::plant_link;
    use crate::test_support::temp_dir;
    use std::time::Duration;

    fn record(n: usize) -> String {
        format!(
            r#"{{"event":"command","properties":{{"action":"run","is_success":true,"event_id":"id-{n}"}}}}"#
        )
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = UNIX_EPOCH + Duration::from_millis(951_782_400_123);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.123Z");
        let later = UNIX_EPOCH + Duration::from_secs(1_796_601_599);
        assert_eq!(rfc3339(later), "2026-12-06T23:59:59.000Z");
    }

    #[test]
    fn hosts_come_without_port_path_or_user() {
        assert_eq!(
            host_of("http://127.0.0.1:4318/v1/logs").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            host_of("https://u@collector.example/e").as_deref(),
            Some("collector.example")
        );
        assert_eq!(host_of("http://[::1]:80/").as_deref(), Some("::1"));
        assert_eq!(host_of("http:///x"), None);
    }

    #[cfg(unix)]
    #[test]
    fn appends_are_kept_in_order_private_and_bounded() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("history-bounded");
        let records: Vec<String> = (0..MAX_RECORDS + 5).map(record).collect();
        append(&dir, Some("h"), &records[..10]).unwrap();
        append(&dir, Some("h"), &records[10..]).unwrap();
        // Below the byte bound an append only appends: the file is read
        // and trimmed when it passes that bound; reading gives the newest.
        let on_disk = fs::read_to_string(path(&dir)).unwrap();
        assert_eq!(on_disk.lines().count(), MAX_RECORDS + 5);
        let kept = read(&dir).unwrap();
        assert_eq!(kept.len(), MAX_RECORDS);
        assert_eq!(kept[0].record["properties"]["event_id"], "id-5");
        assert_eq!(
            kept[MAX_RECORDS - 1].record["properties"]["event_id"],
            format!("id-{}", MAX_RECORDS + 4)
        );
        assert_eq!(
            (kept[0].event(), kept[0].name(), kept[0].outcome()),
            ("command", "run", "ok")
        );
        let mode = fs::metadata(path(&dir)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // The byte bound: large records push the oldest out.
        let big = format!(
            r#"{{"event":"command","action":"{}"}}"#,
            "x".repeat(300_000)
        );
        append(&dir, None, &[big.clone(), big.clone(), big.clone(), big]).unwrap();
        let text = fs::read_to_string(path(&dir)).unwrap();
        assert!(text.len() <= MAX_BYTES, "{}", text.len());
        assert_eq!(read(&dir).unwrap().len(), 3);
        assert!(remove(&dir).unwrap());
        assert!(read(&dir).unwrap().is_empty());
        assert!(!remove(&dir).unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_at_the_name_is_refused_not_followed() {
        let dir = temp_dir("history-link");
        let target = plant_link(&path(&dir), "");
        assert!(append(&dir, Some("h"), &[record(1)]).is_err());
        assert!(read(&dir).is_err());
        assert_eq!(fs::read_to_string(&target).unwrap(), "");
    }
}
