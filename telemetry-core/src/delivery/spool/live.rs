//! This process's own spool file, kept within its [`Bound`] by dropping
//! its oldest pending records first.
//!
//! [`LiveSpool`] knows, for each record line it wrote, where it is in the
//! file and whether it was acknowledged, so that compacting the file needs
//! no parsing: it copies the byte ranges of the records it keeps (see
//! "Compaction" in [`crate::delivery::spool`]).

use super::{SpoolError, SpoolFile, MAX_BYTES, MAX_RECORDS};
use crate::delivery::dropped::DropReason;
use crate::files;
use std::collections::VecDeque;
use std::path::PathBuf;

/// How large a live spool file may grow: record lines (acknowledged or
/// not) and bytes (acknowledgements included). The bytes are lowered to
/// the process's `RLIMIT_FSIZE` when that is smaller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    /// Most record lines in the file (default [`MAX_RECORDS`]).
    pub records: usize,
    /// Most bytes in the file (default [`MAX_BYTES`]).
    pub bytes: u64,
}

impl Default for Bound {
    fn default() -> Bound {
        Bound {
            records: MAX_RECORDS,
            bytes: MAX_BYTES as u64,
        }
    }
}

/// What [`LiveSpool::append`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The record's sequence number, to acknowledge it with; `None` when
    /// it was not spooled (it alone is larger than the bound).
    pub seq: Option<u64>,
    /// Pending records dropped (the oldest first) to make room, the new
    /// one included when it was not spooled.
    pub dropped: u64,
    /// Why: [`DropReason::SpoolBound`], or [`DropReason::FileSizeLimit`]
    /// when `RLIMIT_FSIZE` is what made the bound smaller.
    pub(crate) reason: DropReason,
}

/// One record line in the file.
#[derive(Debug, Clone, Copy)]
struct Entry {
    seq: u64,
    offset: u64,
    /// Line length, newline included.
    len: u64,
    acked: bool,
}

/// This process's spool file and what is in it. Created on the first
/// append; nothing touches the disk before.
#[derive(Debug)]
pub struct LiveSpool {
    dir: PathBuf,
    bound: Bound,
    file: Option<SpoolFile>,
    /// The record lines in the file, in file (and sequence) order.
    entries: VecDeque<Entry>,
    /// Of those, not acknowledged.
    pending: usize,
    /// The file's length: every line this process wrote since it was last
    /// emptied or compacted.
    len: u64,
    next_seq: u64,
    dropped: u64,
}

impl LiveSpool {
    /// A live spool in `dir`, within `bound`.
    #[must_use]
    pub fn new(dir: PathBuf, bound: Bound) -> LiveSpool {
        LiveSpool {
            dir,
            bound,
            file: None,
            entries: VecDeque::new(),
            pending: 0,
            len: 0,
            next_seq: 0,
            dropped: 0,
        }
    }

    /// Appends one record (its wire JSON, one line) in a single write,
    /// creating the file on first use. When the file would pass its bound,
    /// it is first compacted so that, with this record, it holds at most
    /// 3/4 of it: acknowledged records and acknowledgements go, and the
    /// oldest pending records as needed. So a compaction comes at most once
    /// per quarter of the bound appended.
    ///
    /// # Errors
    ///
    /// The file cannot be created, compacted or written.
    pub fn append(&mut self, line: &mut String) -> Result<Appended, SpoolError> {
        let len = line.len() as u64 + 1;
        let (max_bytes, reason) = self.byte_bound();
        if len > max_bytes || self.bound.records == 0 {
            self.dropped += 1;
            return Ok(Appended {
                seq: None,
                dropped: 1,
                reason,
            });
        }
        let mut dropped = 0;
        if self.entries.len() >= self.bound.records || self.len + len > max_bytes {
            dropped = self.compact(len, max_bytes)?;
        }
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(SpoolFile::create(&self.dir)?),
        };
        file.append_record(line)?;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.push_back(Entry {
            seq,
            offset: self.len,
            len,
            acked: false,
        });
        self.len += len;
        self.pending += 1;
        Ok(Appended {
            seq: Some(seq),
            dropped,
            reason,
        })
    }

    /// The byte bound now: the configured one, or `RLIMIT_FSIZE` when
    /// smaller, with the reason a drop would then have.
    fn byte_bound(&self) -> (u64, DropReason) {
        let limit = files::fsize_room(0);
        if limit < self.bound.bytes {
            (limit, DropReason::FileSizeLimit)
        } else {
            (self.bound.bytes, DropReason::SpoolBound)
        }
    }

    /// Whether this process's file was deleted by another process (a run
    /// that turned telemetry off): its name no longer names it.
    #[must_use]
    pub fn deleted(&self) -> bool {
        self.file.as_ref().is_some_and(|file| !file.still_named())
    }

    /// Forgets the file without touching the disk again (after an opt-out
    /// deleted it, or to remove it): nothing is written to it any more.
    pub fn abandon(&mut self) {
        if let Some(file) = self.file.take() {
            if file.still_named() {
                let _ = file.remove();
            }
        }
        self.entries.clear();
        self.pending = 0;
        self.len = 0;
    }

    /// Marks these records (sequence number, `event_id`) delivered: one
    /// acknowledgement line, or the file emptied once nothing in it is
    /// pending. A record no longer in the file (dropped, or in a file
    /// already removed) is skipped.
    ///
    /// # Errors
    ///
    /// The file cannot be written.
    pub fn ack<'a>(
        &mut self,
        records: impl IntoIterator<Item = (u64, &'a str)>,
    ) -> Result<(), SpoolError> {
        let mut ids = Vec::new();
        for (seq, id) in records {
            if let Ok(at) = self.entries.binary_search_by_key(&seq, |entry| entry.seq) {
                let entry = &mut self.entries[at];
                if !entry.acked {
                    entry.acked = true;
                    self.pending -= 1;
                    ids.push(id);
                }
            }
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        if ids.is_empty() {
            return Ok(());
        }
        if self.pending == 0 {
            file.truncate()?;
            self.entries.clear();
            self.len = 0;
            return Ok(());
        }
        match file.append_ack(ids) {
            Ok(written) => self.len += written,
            // No room for the acknowledgement: a compaction drops the
            // acknowledged lines instead.
            Err(SpoolError::FileSizeLimit) => {
                let (max_bytes, _) = self.byte_bound();
                self.compact(0, max_bytes)?;
            }
            Err(error) => return Err(error),
        }
        Ok(())
    }

    /// Tidies at a flush point: removes the file when nothing in it is
    /// pending (a later record starts a new one), else syncs it to disk
    /// for the next run.
    ///
    /// # Errors
    ///
    /// The file cannot be removed or synced.
    pub fn finish(&mut self) -> Result<(), SpoolError> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        if self.pending == 0 {
            self.entries.clear();
            self.len = 0;
            file.remove()
        } else {
            let synced = file.sync();
            self.file = Some(file);
            synced
        }
    }

    /// The file's path once it exists (for tests; never logged).
    #[cfg(test)]
    pub fn path(&self) -> Option<&std::path::Path> {
        self.file.as_ref().map(SpoolFile::path)
    }

    /// Records not yet acknowledged.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Records dropped to keep the file within its bound, in all.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Keeps the newest pending records that fit, with the `incoming`
    /// record, within 3/4 of the bound; returns how many pending records it
    /// dropped.
    fn compact(&mut self, incoming: u64, bound_bytes: u64) -> Result<u64, SpoolError> {
        // An opt-out elsewhere deleted the file: never bring it back.
        if self.deleted() {
            return Err(SpoolError::Deleted);
        }
        // After the incoming record, the file holds at most 3/4 of the
        // bound (`append` made sure that one record alone fits the bound).
        let max_records = (self.bound.records - self.bound.records / 4).saturating_sub(1);
        let max_bytes = (bound_bytes - bound_bytes / 4).saturating_sub(incoming);
        let mut kept = 0;
        let mut bytes = 0;
        let mut first = self.entries.len();
        for (index, entry) in self.entries.iter().enumerate().rev() {
            if entry.acked {
                continue;
            }
            if kept >= max_records || bytes + entry.len > max_bytes {
                break;
            }
            kept += 1;
            bytes += entry.len;
            first = index;
        }
        let keep: Vec<Entry> = self
            .entries
            .range(first..)
            .filter(|entry| !entry.acked)
            .copied()
            .collect();
        match self.file.as_mut() {
            Some(file) if keep.is_empty() => file.truncate()?,
            Some(file) => {
                let spans: Vec<(u64, u64)> =
                    keep.iter().map(|entry| (entry.offset, entry.len)).collect();
                file.rewrite(&spans)?;
            }
            None => {}
        }
        let dropped = (self.pending - keep.len()) as u64;
        self.entries.clear();
        self.len = 0;
        for entry in keep {
            self.entries.push_back(Entry {
                offset: self.len,
                ..entry
            });
            self.len += entry.len;
        }
        self.pending = self.entries.len();
        self.dropped += dropped;
        Ok(dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::spool::claim::claim_locked;
    use crate::delivery::spool::file::open_existing;
    use crate::delivery::spool::tests::{claim_all as claim, line, temp_dir, TempDir};
    use crate::delivery::spool::{now_ms, peek};
    use crate::files::try_lock;
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    fn append(spool: &mut LiveSpool, id: &str) -> Appended {
        spool.append(&mut line(id, now_ms())).unwrap()
    }

    fn pending_ids(dir: &Path) -> Vec<String> {
        peek(dir)
            .iter()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                value["properties"]["event_id"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    fn ids(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|n| format!("r{n:05}")).collect()
    }

    /// A live spool in `dir` bounded by its number of records only.
    fn by_records(dir: &Path, records: usize) -> LiveSpool {
        let bytes = u64::MAX / 2;
        LiveSpool::new(dir.to_owned(), Bound { records, bytes })
    }

    /// A fresh dir, and a live spool in it bounded by `records`, after
    /// appending the records `range` names.
    fn filled(
        name: &str,
        records: usize,
        range: std::ops::Range<usize>,
    ) -> (TempDir, LiveSpool, Vec<Appended>) {
        let dir = temp_dir(name);
        let mut spool = by_records(&dir, records);
        let appended = append_ids(&mut spool, range);
        (dir, spool, appended)
    }

    /// Appends the records `range` names, in order.
    fn append_ids(spool: &mut LiveSpool, range: std::ops::Range<usize>) -> Vec<Appended> {
        ids(range).iter().map(|id| append(spool, id)).collect()
    }

    /// Records dropped by these appends.
    fn dropped(appended: &[Appended]) -> u64 {
        appended.iter().map(|appended| appended.dropped).sum()
    }

    /// The sequence numbers of these appends, each spooled.
    fn seqs(appended: &[Appended]) -> Vec<u64> {
        appended
            .iter()
            .map(|appended| appended.seq.unwrap())
            .collect()
    }

    /// Bytes of one test record line, newline included.
    fn line_len() -> u64 {
        line("r00000", now_ms()).len() as u64 + 1
    }

    #[test]
    fn past_its_byte_bound_the_oldest_records_are_dropped_and_counted() {
        let dir = temp_dir("live-bytes");
        // Room for 40 records.
        let bound = Bound {
            records: 10_000,
            bytes: 40 * line_len(),
        };
        let mut spool = LiveSpool::new(dir.0.clone(), bound);
        let dropped = dropped(&append_ids(&mut spool, 0..40));
        assert_eq!(dropped, 0, "within the bound: nothing dropped");
        // The 41st passes the bound: compacted to 3/4 (30 records, the
        // new one included), the 11 oldest dropped.
        let appended = append(&mut spool, "r00040");
        assert_eq!(appended.dropped, 11);
        assert!(appended.seq.is_some(), "the newest is spooled");
        assert_eq!(pending_ids(&dir), ids(11..41));
        assert_eq!((spool.pending(), spool.dropped()), (30, 11));
        let file_len = std::fs::metadata(spool.path().unwrap()).unwrap().len();
        assert!(file_len <= bound.bytes, "{file_len}");
        // Amortised: the next compaction comes 10 records later.
        for id in ids(41..51) {
            assert_eq!(append(&mut spool, &id).dropped, 0);
        }
        assert_eq!(append(&mut spool, "r00051").dropped, 11);
        assert_eq!(pending_ids(&dir), ids(22..52));
        assert_eq!(spool.dropped(), 22);
    }

    #[test]
    fn past_its_record_bound_the_oldest_records_are_dropped_and_counted() {
        let (dir, spool, appended) = filled("live-records", 100, 0..101);
        let dropped = dropped(&appended);
        // At the 101st: 75 kept (74 old + the new one), 26 dropped.
        assert_eq!(dropped, 26);
        assert_eq!(pending_ids(&dir), ids(26..101));
        assert_eq!(spool.dropped(), 26);
    }

    #[test]
    fn acknowledged_records_are_compacted_away_before_any_pending_one_is_dropped() {
        let (dir, mut spool, appended) = filled("live-acked", 20, 0..20);
        let all = ids(0..20);
        let seqs = seqs(&appended);
        // Every other record delivered.
        let acked: Vec<(u64, &str)> = seqs
            .iter()
            .zip(&all)
            .step_by(2)
            .map(|(&seq, id)| (seq, id.as_str()))
            .collect();
        spool.ack(acked).unwrap();
        assert_eq!(append(&mut spool, "r00020").dropped, 0);
        let mut expected: Vec<String> = all.iter().skip(1).step_by(2).cloned().collect();
        expected.push("r00020".into());
        assert_eq!(pending_ids(&dir), expected);
        // Acknowledging a kept record after the rewrite still counts; one
        // that was never in this file is skipped.
        spool
            .ack([(seqs[1], all[1].as_str()), (999, "nope")])
            .unwrap();
        assert_eq!(spool.pending(), 10);
        assert!(!pending_ids(&dir).contains(&all[1]));
    }

    #[test]
    fn a_dropped_record_acknowledged_later_is_skipped() {
        let (dir, mut spool, appended) = filled("live-ack-dropped", 4, 0..5);
        let seqs = seqs(&appended);
        // 4 → compacted to 3 (2 old + the new one): r00000, r00001 dropped.
        assert_eq!(pending_ids(&dir), ids(2..5));
        // The queue still had r00000 and sent it: nothing to mark.
        spool.ack([(seqs[0], "r00000")]).unwrap();
        assert_eq!(spool.pending(), 3);
        let rest: Vec<(u64, String)> = seqs[2..].iter().copied().zip(ids(2..5)).collect();
        spool
            .ack(rest.iter().map(|(seq, id)| (*seq, id.as_str())))
            .unwrap();
        assert_eq!(spool.pending(), 0);
        assert_eq!(std::fs::metadata(spool.path().unwrap()).unwrap().len(), 0);
        spool.finish().unwrap();
        assert!(spool.path().is_none());
    }

    #[test]
    fn a_record_larger_than_the_bound_is_not_spooled() {
        let dir = temp_dir("live-huge");
        let mut spool = LiveSpool::new(
            dir.0.clone(),
            Bound {
                records: 10,
                bytes: line_len() - 1,
            },
        );
        let appended = append(&mut spool, "r00000");
        assert_eq!((appended.seq, appended.dropped), (None, 1));
        assert_eq!(appended.reason, DropReason::SpoolBound);
        assert!(pending_ids(&dir).is_empty());
    }

    #[test]
    fn a_crash_leftover_of_a_compacted_file_keeps_the_newest() {
        let (dir, spool, _) = filled("live-crash", 50, 0..200);
        let dropped = spool.dropped();
        // The process ends without a flush: the lock goes with it.
        drop(spool);
        let claim = claim(&dir, now_ms());
        let got: Vec<&str> = claim.records.iter().map(|r| r.event_id.as_str()).collect();
        let expected = ids(200 - got.len()..200);
        assert_eq!(got, expected, "the newest, in order, each once");
        assert!(got.len() <= 50);
        assert_eq!(dropped + got.len() as u64, 200);
        assert!(claim.drops.is_empty() && claim.problems.is_empty());
    }

    /// A claimer that opened the live file's name just before a compaction
    /// and locks the old file after it: the name now names the new, live
    /// file, which it must neither claim nor move.
    #[cfg(unix)]
    #[test]
    fn a_claimer_holding_the_file_a_compaction_replaced_leaves_the_live_file_alone() {
        let (dir, mut spool, _) = filled("live-race-step", 4, 0..4);
        let path = spool.path().unwrap().to_owned();
        let opened_before = open_existing(&path).unwrap();
        assert!(!try_lock(&opened_before), "live: locked");
        append(&mut spool, "r00004"); // compacts: the old file's lock goes
        assert!(try_lock(&opened_before), "the replaced file is unlocked");
        let claimed = claim_locked(&dir, &path, opened_before).unwrap();
        assert!(claimed.is_none());
        assert_eq!(spool.path(), Some(path.as_path()));
        assert!(path.exists(), "the live file kept its name");
        assert!(claim(&dir, now_ms()).records.is_empty());
        assert_eq!(pending_ids(&dir), ids(2..5));
    }

    #[test]
    fn claimers_racing_compactions_never_get_a_live_record() {
        let dir = temp_dir("live-race");
        let stop = Arc::new(AtomicBool::new(false));
        let claimers: Vec<_> = (0..3)
            .map(|_| {
                let dir = dir.0.clone();
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    let mut rounds = 0;
                    while !stop.load(Ordering::Relaxed) || rounds == 0 {
                        let claim = claim(&dir, now_ms());
                        got.extend(claim.records.into_iter().map(|r| r.event_id));
                        rounds += 1;
                    }
                    got
                })
            })
            .collect();
        let mut spool = by_records(&dir, 40);
        append_ids(&mut spool, 0..3_000);
        stop.store(true, Ordering::Relaxed);
        for claimer in claimers {
            let got = claimer.join().unwrap();
            assert!(got.is_empty(), "a live record was claimed: {got:?}");
        }
        assert!(spool.dropped() > 2_900);
        let path = spool.path().unwrap().to_owned();
        assert!(path.exists(), "the live file kept its name");
        drop(spool);
        // Once the process is gone, its newest records are claimed once.
        let claimed = claim(&dir, now_ms());
        let got: Vec<&str> = claimed
            .records
            .iter()
            .map(|r| r.event_id.as_str())
            .collect();
        assert_eq!(got, ids(3_000 - got.len()..3_000));
        assert!(
            claim(&dir, now_ms()).records.is_empty(),
            "held by the first"
        );
    }
}
