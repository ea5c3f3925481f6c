//! When an upload is due, and whose turn it is: the time of the last
//! attempt, kept in one small private file that the uploader also locks.

use crate::files;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The file holding the last upload attempt (epoch ms, as text); the
/// uploader holds its lock while it uploads.
pub(crate) const LAST_UPLOAD_FILE: &str = "telemetry-upload-last";

/// Now, in epoch milliseconds (0 before 1970).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

/// When the next upload is due (epoch ms), or `None` when it is due now:
/// no attempt recorded, the last one at least `every` ago, or one dated
/// in the future (a clock set back must not stop uploads for good).
pub(crate) fn next_upload(last: Option<u64>, every: Duration, now: u64) -> Option<u64> {
    let last = last?;
    if last > now {
        return None;
    }
    let every = u64::try_from(every.as_millis()).unwrap_or(u64::MAX);
    let next = last.saturating_add(every);
    (next > now).then_some(next)
}

/// The last attempt recorded in `dir`, read without any lock; `None` when
/// there is none or it cannot be read (then an upload is due).
pub(crate) fn last_attempt(dir: &Path) -> Option<u64> {
    let mut file = files::open_file(&dir.join(LAST_UPLOAD_FILE)).ok()?;
    read_time(&mut file)
}

fn read_time(file: &mut File) -> Option<u64> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    Read::by_ref(file).take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// This process's turn to upload: the last-attempt file, locked. Dropping
/// it ends the turn.
pub(crate) struct UploadTurn {
    file: File,
}

impl UploadTurn {
    /// Takes the turn when no other process has it; never waits.
    pub(crate) fn try_take(dir: &Path) -> Option<UploadTurn> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true);
        files::no_follow_no_block(&mut options);
        files::private_mode(&mut options);
        let file = options.open(dir.join(LAST_UPLOAD_FILE)).ok()?;
        let metadata = file.metadata().ok()?;
        if !metadata.is_file() || files::check_metadata(&metadata).is_err() {
            return None;
        }
        files::try_lock(&file).then_some(UploadTurn { file })
    }

    /// The last attempt, read again now that the turn is ours.
    pub(crate) fn last_attempt(&mut self) -> Option<u64> {
        read_time(&mut self.file)
    }

    /// Records an attempt at `at` (epoch ms); `None` forgets it, so that
    /// the next run is due at once.
    pub(crate) fn record_attempt(&mut self, at: Option<u64>) {
        let text = at.map(|at| at.to_string()).unwrap_or_default();
        let _ = self.file.set_len(0);
        let _ = self.file.seek(SeekFrom::Start(0));
        let _ = self.file.write_all(text.as_bytes());
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;

    #[test]
    fn due_without_an_attempt_after_the_interval_and_for_a_future_date() {
        let hour = Duration::from_secs(3600);
        assert_eq!(next_upload(None, hour, 10_000), None);
        assert_eq!(next_upload(Some(9_000), hour, 10_000), Some(3_609_000));
        assert_eq!(next_upload(Some(9_000), Duration::ZERO, 10_000), None);
        assert_eq!(next_upload(Some(1_000), hour, 3_601_000), None);
        assert_eq!(next_upload(Some(20_000), hour, 10_000), None);
    }

    #[test]
    fn one_turn_at_a_time_and_the_attempt_is_remembered() {
        let dir = temp_dir("upload-turn");
        assert_eq!(last_attempt(&dir), None);
        let mut turn = UploadTurn::try_take(&dir).expect("the turn");
        assert!(UploadTurn::try_take(&dir).is_none(), "taken already");
        turn.record_attempt(Some(1_234_567));
        assert_eq!(last_attempt(&dir), Some(1_234_567));
        assert_eq!(turn.last_attempt(), Some(1_234_567));
        turn.record_attempt(None);
        assert_eq!(last_attempt(&dir), None);
        drop(turn);
        assert!(UploadTurn::try_take(&dir).is_some(), "free again");
    }
}
