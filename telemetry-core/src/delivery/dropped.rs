//! Counting what the toolkit dropped before it could be sent, by reason:
//! one [`DropCounts`] per enabled client, shared by `Arc`, turned into a
//! `client_report` record (`{"dropped": {reason: n}}`) by its reader.
//!
//! Counting only: a record that an opt-out removed is never counted.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a record was dropped; [`DropReason::as_str`] is its wire name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum DropReason {
    /// The per-process cap on records was reached.
    Cap,
    /// The in-memory queue of background delivery was full.
    QueueFull,
    /// A single record was larger than a batch may be.
    BatchTooLarge,
    /// The spool passed its bound and dropped its oldest records.
    SpoolBound,
    /// The collector refused the records for good.
    Rejected,
    /// Writing would pass the process's file size limit (`RLIMIT_FSIZE`).
    FileSizeLimit,
    /// No file descriptor was left to open the spool.
    DescriptorShortage,
    /// The record's timestamp could not be used.
    InvalidTimestamp,
    /// An inline record dropped while the collector asked to wait.
    Backoff,
}

impl DropReason {
    /// Every reason, for iteration.
    pub(crate) const ALL: [DropReason; 9] = [
        DropReason::Cap,
        DropReason::QueueFull,
        DropReason::BatchTooLarge,
        DropReason::SpoolBound,
        DropReason::Rejected,
        DropReason::FileSizeLimit,
        DropReason::DescriptorShortage,
        DropReason::InvalidTimestamp,
        DropReason::Backoff,
    ];

    /// The reason's wire name, as a `client_report` carries it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DropReason::Cap => "cap",
            DropReason::QueueFull => "queue_full",
            DropReason::BatchTooLarge => "batch_too_large",
            DropReason::SpoolBound => "spool_bound",
            DropReason::Rejected => "rejected",
            DropReason::FileSizeLimit => "file_size_limit",
            DropReason::DescriptorShortage => "descriptor_shortage",
            DropReason::InvalidTimestamp => "invalid_timestamp",
            DropReason::Backoff => "backoff",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Dropped records per reason, lock-free.
#[derive(Debug, Default)]
pub(crate) struct DropCounts {
    counts: [AtomicU64; 9],
}

// Not every layer counts yet (the cap and the client report come with
// their own work); the counter's API is complete already.
#[allow(dead_code)]
impl DropCounts {
    /// Counts `n` records dropped for `reason`.
    pub(crate) fn add(&self, reason: DropReason, n: u64) {
        if n > 0 {
            self.counts[reason.index()].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Takes every count (each reset to zero), zeros left out.
    pub(crate) fn take(&self) -> BTreeMap<&'static str, u64> {
        DropReason::ALL
            .iter()
            .filter_map(|reason| {
                let n = self.counts[reason.index()].swap(0, Ordering::Relaxed);
                (n > 0).then_some((reason.as_str(), n))
            })
            .collect()
    }

    /// Adds back counts that could not be sent (as `take` gave them);
    /// an unknown reason's name is ignored.
    pub(crate) fn restore(&self, counts: BTreeMap<&'static str, u64>) {
        for (name, n) in counts {
            if let Some(reason) = DropReason::ALL.iter().find(|r| r.as_str() == name) {
                self.add(*reason, n);
            }
        }
    }

    /// `true` when nothing is counted.
    pub(crate) fn is_empty(&self) -> bool {
        self.counts
            .iter()
            .all(|count| count.load(Ordering::Relaxed) == 0)
    }

    /// The count for one reason, without taking it.
    pub(crate) fn get(&self, reason: DropReason) -> u64 {
        self.counts[reason.index()].load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_taken_once_and_restored() {
        let counts = DropCounts::default();
        assert!(counts.is_empty());
        counts.add(DropReason::Backoff, 2);
        counts.add(DropReason::BatchTooLarge, 1);
        counts.add(DropReason::Cap, 0);
        let taken = counts.take();
        assert_eq!(
            taken.into_iter().collect::<Vec<_>>(),
            [("backoff", 2), ("batch_too_large", 1)]
        );
        assert!(counts.is_empty());
        counts.restore(BTreeMap::from([("rejected", 3), ("nonsense", 9)]));
        assert_eq!(counts.get(DropReason::Rejected), 3);
        assert_eq!(counts.take().len(), 1);
    }

    #[test]
    fn wire_names_are_distinct() {
        let mut names: Vec<_> = DropReason::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DropReason::ALL.len());
    }
}
