//! This process's own spool file, kept within its [`Bound`] by dropping
//! its oldest pending records first.
//!
//! [`LiveSpool`] knows, for each record line it wrote, where it is in the
//! file and whether it was acknowledged, so that compacting the file needs
//! no parsing: it copies the byte ranges of the records it keeps (see
//! "Compaction" in [`crate::spool`]).

use super::{SpoolError, SpoolFile, MAX_BYTES, MAX_RECORDS};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

/// How large a live spool file may grow: record lines (acknowledged or
/// not) and bytes (acknowledgements included).
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
    /// it is first compacted to at most 3/4 of it: acknowledged records
    /// and acknowledgements go, and the oldest pending records as needed.
    ///
    /// # Errors
    ///
    /// The file cannot be created, compacted or written.
    pub fn append(&mut self, line: &mut String) -> Result<Appended, SpoolError> {
        let len = line.len() as u64 + 1;
        if len > self.bound.bytes || self.bound.records == 0 {
            self.dropped += 1;
            return Ok(Appended {
                seq: None,
                dropped: 1,
            });
        }
        let mut dropped = 0;
        if self.entries.len() >= self.bound.records || self.len + len > self.bound.bytes {
            dropped = self.compact(len)?;
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
        })
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
        } else {
            self.len += file.append_ack(ids)?;
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

    /// Records not yet acknowledged.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Records dropped to keep the file within its bound, in all.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The bound.
    #[must_use]
    pub fn bound(&self) -> Bound {
        self.bound
    }

    /// The file's path once it exists (for tests and tools; never logged).
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(SpoolFile::path)
    }

    /// Keeps the newest pending records within 3/4 of the bound (and room
    /// for `incoming` bytes); returns how many pending records it dropped.
    fn compact(&mut self, incoming: u64) -> Result<u64, SpoolError> {
        // `append` made sure that `records` ≥ 1 and `incoming` ≤ `bytes`.
        let max_records = (self.bound.records - self.bound.records / 4).min(self.bound.records - 1);
        let max_bytes = (self.bound.bytes - self.bound.bytes / 4).min(self.bound.bytes - incoming);
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
