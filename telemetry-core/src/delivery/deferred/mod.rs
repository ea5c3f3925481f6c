//! Deferred delivery: a record call appends the record to one shared spool
//! file and returns; a process uploads only when an upload is due, at its
//! exit flush. For command-line tools whose runs are short and many, where
//! freshness matters less than what each run costs.
//!
//! # A run
//!
//! - **Recording** ([`Deferred::record`]): the record's wire JSON is
//!   appended, as one line, to `telemetry-deferred.jsonl` in the config
//!   dir, under the lock of `telemetry-deferred.lock` (see [`file`](mod@file)). One
//!   file for every process of the app, no file per process, no thread, no
//!   socket, no fsync. The spool keeps the background spool's bound
//!   ([`MAX_RECORDS`](crate::delivery::spool::MAX_RECORDS) records,
//!   [`MAX_BYTES`](crate::delivery::spool::MAX_BYTES) bytes): past it the oldest
//!   records go, counted as dropped (`spool_bound`).
//! - **The exit flush** ([`Deferred::upload`], at the same flush points as
//!   background delivery: the end of the outermost tracked command,
//!   [`Telemetry::flush`](crate::Telemetry::flush), the drop of the
//!   [`FlushGuard`](crate::FlushGuard)): nothing happens unless an upload
//!   is due — no attempt recorded yet, or the last attempt (success or
//!   not, kept in `telemetry-upload-last`) at least `upload_every` ago. A
//!   run inside the interval reads that one small file and opens no
//!   connection.
//! - **An upload**: one process at a time. The uploader takes the lock of
//!   `telemetry-upload-last` without waiting (a second process finds it
//!   taken and leaves its records for later), checks again that an upload
//!   is due (another process may just have made one), records the attempt,
//!   reads the spool (at most its bound, and at most
//!   [`READ_LIMIT`](file::READ_LIMIT) bytes), and sends it in
//!   batches on the calling thread. It starts no batch once the exit budget
//!   is spent; each batch takes at most the request timeout. Uploaded
//!   records, and records the collector refused for good (counted as
//!   `rejected`), are then removed from the spool; records appended by
//!   other processes meanwhile stay.
//! - **Failures**: a transport failure, or an answer asking to come back
//!   later, ends the upload; the attempt stands, so the next upload waits
//!   for the interval. Records left because the exit budget ran out make
//!   the next run due at once.
//!
//! # Durability
//!
//! An append is in the kernel's page cache when the call returns: a killed
//! or crashed process loses nothing. There is no fsync per run, so a power
//! cut (or a kernel crash) may lose the last records appended, or leave the
//! last line cut, which a later read skips.
//!
//! # Where it does not apply
//!
//! The run that shows the first-run notice sends nothing and defers
//! nothing. In CI (a CI variable is set) deferred delivery behaves as
//! inline: CI machines are short-lived, and files there help no one.
//! Log-only mode writes nothing and says what it would defer. Opting out
//! deletes the spool unsent, as it does background delivery's.

pub(crate) mod file;
pub(crate) mod schedule;

use super::background::{is_refused_for_good, Flushed, BATCH_BYTES, BATCH_RECORDS};
use super::dropped::{DropCounts, DropReason};
use crate::delivery::RecordBound;
use crate::sink::SendError;
use file::SPOOL_BOUND;
use schedule::UploadTurn;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Sends one batch of records, each its wire JSON.
pub(crate) type SendFn = Box<dyn Fn(&[String]) -> Result<(), SendError> + Send + Sync>;
/// Receives what the debug log should say.
pub(crate) type NoteFn = Box<dyn Fn(&str) + Send + Sync>;

/// Deferred delivery for one client.
pub(crate) struct Deferred {
    dir: PathBuf,
    upload_every: Duration,
    send: SendFn,
    note: Option<NoteFn>,
    drops: Arc<DropCounts>,
    bound: RecordBound,
    /// One upload at a time within this process too.
    uploading: Mutex<()>,
}

impl Deferred {
    /// Deferred delivery spooling in `dir` (the checked config dir).
    pub(crate) fn new(
        dir: PathBuf,
        upload_every: Duration,
        send: SendFn,
        note: Option<NoteFn>,
        drops: Arc<DropCounts>,
    ) -> Deferred {
        Deferred {
            dir,
            upload_every,
            send,
            note,
            drops,
            bound: SPOOL_BOUND,
            uploading: Mutex::new(()),
        }
    }

    fn note(&self, line: &str) {
        if let Some(note) = &self.note {
            note(line);
        }
    }

    /// Appends the record to the shared spool. Never waits on the network.
    pub(crate) fn record(&self, json: &str) {
        if let Err(error) = file::append(&self.dir, json, self.bound, &self.drops) {
            self.note(&format!(
                "not deferred: the deferred spool cannot be written ({})",
                error.kind()
            ));
        }
    }

    /// The exit flush: uploads the spool when an upload is due and no other
    /// process is uploading, starting no batch after `budget`.
    pub(crate) fn upload(&self, budget: Duration) -> Flushed {
        let Ok(_uploading) = self.uploading.try_lock() else {
            return Flushed::Deferred;
        };
        let now = schedule::now_ms();
        let every = self.upload_every;
        if schedule::next_upload(schedule::last_attempt(&self.dir), every, now).is_some() {
            return Flushed::Deferred;
        }
        let Some(mut turn) = UploadTurn::try_take(&self.dir) else {
            self.note("deferred: another process is uploading");
            return Flushed::Deferred;
        };
        // Another process may have uploaded between the look and the lock.
        if schedule::next_upload(turn.last_attempt(), every, now).is_some() {
            return Flushed::Deferred;
        }
        let records = match file::take_within(&self.dir, self.bound, &self.drops) {
            Ok(records) => records,
            Err(error) => {
                self.note(&format!(
                    "deferred: the spool cannot be read ({})",
                    error.kind()
                ));
                return Flushed::Stopped;
            }
        };
        if records.is_empty() {
            return Flushed::Delivered;
        }
        turn.record_attempt(Some(now));
        let deadline = Instant::now() + budget;
        let mut settled: HashSet<&str> = HashSet::new();
        let mut stopped = false;
        let mut rest: &[String] = &records;
        while !rest.is_empty() {
            if Instant::now() >= deadline {
                break;
            }
            let batch = take_batch(rest);
            rest = &rest[batch.len()..];
            match (self.send)(batch) {
                Ok(()) => settled.extend(batch.iter().map(String::as_str)),
                Err(SendError::Rejected(status)) if is_refused_for_good(status) => {
                    self.drops.add(DropReason::Rejected, batch.len() as u64);
                    settled.extend(batch.iter().map(String::as_str));
                }
                Err(SendError::PartlyRejected { rejected }) => {
                    self.drops.add(DropReason::Rejected, rejected);
                    settled.extend(batch.iter().map(String::as_str));
                }
                Err(error) => {
                    self.note(&format!("deferred upload stopped: {error}"));
                    stopped = true;
                    break;
                }
            }
        }
        let pending = records.len() - settled.len();
        if let Err(error) = file::remove(&self.dir, &settled) {
            self.note(&format!(
                "deferred: uploaded records could not be removed from the spool ({})",
                error.kind()
            ));
        }
        if stopped {
            Flushed::Stopped
        } else if pending > 0 {
            // Out of budget, not failed: the next run is due at once.
            turn.record_attempt(None);
            Flushed::TimedOut {
                pending: pending as u64,
            }
        } else {
            self.note(&format!("deferred: uploaded {} record(s)", records.len()));
            Flushed::Delivered
        }
    }
}

/// The first batch of `records`: at most [`BATCH_RECORDS`] records and
/// [`BATCH_BYTES`] bytes, and at least one record.
fn take_batch(records: &[String]) -> &[String] {
    let mut bytes = 0;
    let mut count = 0;
    for record in records.iter().take(BATCH_RECORDS) {
        bytes += record.len();
        if count > 0 && bytes > BATCH_BYTES {
            break;
        }
        count += 1;
    }
    &records[..count]
}

/// When the next upload is due in `dir` (epoch ms); `None` when due now.
/// For `status`.
pub(crate) fn next_upload(dir: &Path, upload_every: Duration) -> Option<u64> {
    schedule::next_upload(
        schedule::last_attempt(dir),
        upload_every,
        schedule::now_ms(),
    )
}

/// An opt-out: deletes the deferred spool unsent. `Ok(true)` when there
/// was one. The time of the last attempt stays (it says nothing about the
/// user): after an opt-in again, the interval still runs from it.
pub(crate) fn delete_all(dir: &Path) -> std::io::Result<bool> {
    file::delete(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::test_support::temp_dir;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const HOURLY: Duration = Duration::from_secs(3600);

    /// A deferred spool in `dir` that uploads at most `every`, through
    /// `send`, counting what it drops in `drops`.
    fn deferred_with(
        dir: &Path,
        every: Duration,
        send: SendFn,
        drops: &Arc<DropCounts>,
    ) -> Deferred {
        Deferred::new(dir.to_owned(), every, send, None, Arc::clone(drops))
    }

    /// The same, whose uploads succeed and add to `sent`.
    fn deferred(dir: &Path, every: Duration, sent: Arc<AtomicUsize>) -> Deferred {
        let send: SendFn = Box::new(move |batch: &[String]| {
            sent.fetch_add(batch.len(), Ordering::SeqCst);
            Ok(())
        });
        deferred_with(dir, every, send, &Arc::new(DropCounts::default()))
    }

    /// An hourly spool in `dir` holding one record, and its count of
    /// records sent.
    fn hourly_holding_one(dir: &Path) -> (Deferred, Arc<AtomicUsize>) {
        let sent = Arc::new(AtomicUsize::new(0));
        let hourly = deferred(dir, HOURLY, Arc::clone(&sent));
        hourly.record("{\"n\":1}");
        (hourly, sent)
    }

    #[test]
    fn uploads_when_due_then_not_again_within_the_interval() {
        let dir = temp_dir("deferred-due");
        let (hourly, sent) = hourly_holding_one(&dir);
        assert_eq!(hourly.upload(Duration::from_secs(1)), Flushed::Delivered);
        assert_eq!(sent.load(Ordering::SeqCst), 1);
        assert!(next_upload(&dir, HOURLY).is_some());
        hourly.record("{\"n\":2}");
        hourly.record("{\"n\":3}");
        assert_eq!(hourly.upload(Duration::from_secs(1)), Flushed::Deferred);
        assert_eq!(sent.load(Ordering::SeqCst), 1, "within the interval");
        assert_eq!(file::peek(&dir).len(), 2);
        let every_run = deferred(&dir, Duration::ZERO, Arc::clone(&sent));
        assert_eq!(every_run.upload(Duration::from_secs(1)), Flushed::Delivered);
        assert_eq!(sent.load(Ordering::SeqCst), 3);
        assert!(file::peek(&dir).is_empty());
    }

    #[test]
    fn a_transport_failure_keeps_the_records_and_the_attempt() {
        let dir = temp_dir("deferred-fail");
        let send: SendFn = Box::new(|_: &[String]| Err(SendError::Transport("refused".into())));
        let drops = Arc::new(DropCounts::default());
        let failing = deferred_with(&dir, Duration::from_secs(60), send, &drops);
        failing.record("{\"n\":1}");
        assert_eq!(failing.upload(Duration::from_secs(1)), Flushed::Stopped);
        assert_eq!(file::peek(&dir).len(), 1);
        assert!(next_upload(&dir, Duration::from_secs(60)).is_some());
    }

    #[test]
    fn a_spent_budget_leaves_the_next_run_due_at_once() {
        let dir = temp_dir("deferred-budget");
        let (hourly, sent) = hourly_holding_one(&dir);
        let spent = hourly.upload(Duration::ZERO);
        assert_eq!(spent, Flushed::TimedOut { pending: 1 });
        assert_eq!(sent.load(Ordering::SeqCst), 0);
        assert_eq!(next_upload(&dir, HOURLY), None);
    }

    #[test]
    fn refused_for_good_is_removed_and_counted() {
        let dir = temp_dir("deferred-refused");
        let drops = Arc::new(DropCounts::default());
        let send: SendFn = Box::new(|_: &[String]| Err(SendError::Rejected(400)));
        let refused = deferred_with(&dir, Duration::ZERO, send, &drops);
        refused.record("{\"n\":1}");
        refused.upload(Duration::from_secs(1));
        assert!(file::peek(&dir).is_empty());
        assert_eq!(drops.take().get("rejected"), Some(&1));
    }

    #[test]
    fn an_opt_out_deletes_the_spool() {
        let dir = temp_dir("deferred-purge");
        let sent = Arc::new(AtomicUsize::new(0));
        deferred(&dir, Duration::ZERO, sent).record("{\"n\":1}");
        assert!(delete_all(&dir).unwrap());
        assert!(file::peek(&dir).is_empty());
    }
}
