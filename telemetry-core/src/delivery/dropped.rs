//! Records this toolkit dropped before they could be sent, counted by
//! reason: what a `client_report` record carries (`{"dropped": {reason: n}}`).
//!
//! Counting only: one [`DropCounts`] per enabled client, shared by `Arc`
//! between the parts that drop (the spool, the queue, the cap). A record
//! that an opt-out removed is never counted: the user asked for nothing to
//! leave, and a count is something leaving.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a record was dropped. Its wire name is [`as_str`](DropReason::as_str).
// `Cap`, `QueueFull`, `BatchTooLarge` and `Backoff` are counted by the
// parts that drop for them (the cap, the queue, inline back-off).
#[allow(dead_code)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum DropReason {
    /// The per-process cap on records was reached.
    Cap,
    /// The in-memory delivery queue was full and the record was not kept
    /// on disk either.
    QueueFull,
    /// The record alone is larger than a batch may be.
    BatchTooLarge,
    /// The spool's bound (records or bytes, live file or leftovers): the
    /// oldest by write order go first.
    SpoolBound,
    /// The collector refused it for good.
    Rejected,
    /// Writing it would have passed the process's `RLIMIT_FSIZE`.
    FileSizeLimit,
    /// No descriptor or no disk space was left to keep it.
    DescriptorShortage,
    /// Stamped more than a day ahead of this machine's clock.
    InvalidTimestamp,
    /// Recorded while the collector asked to wait (inline delivery).
    Backoff,
}

impl DropReason {
    /// Every reason, in wire order.
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

    /// The reason's name in a `client_report`.
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

/// Dropped records by reason, for one client; lock-free. `take` and
/// `restore` are for the `client_report` record that carries the counts
/// upstream.
#[derive(Debug, Default)]
pub(crate) struct DropCounts {
    counts: [AtomicU64; 9],
}

impl DropCounts {
    /// Counts `n` records dropped for `reason`.
    pub(crate) fn add(&self, reason: DropReason, n: u64) {
        if n > 0 {
            self.counts[reason.index()].fetch_add(n, Ordering::Relaxed);
        }
    }

    #[allow(dead_code)] // Until the `client_report` record takes them.
    /// Takes every count (each swapped to zero), by wire name; zeros are
    /// left out.
    pub(crate) fn take(&self) -> BTreeMap<&'static str, u64> {
        DropReason::ALL
            .iter()
            .filter_map(|&reason| {
                let n = self.counts[reason.index()].swap(0, Ordering::Relaxed);
                (n > 0).then_some((reason.as_str(), n))
            })
            .collect()
    }

    #[allow(dead_code)] // Until the `client_report` record takes them.
    /// Adds back counts that [`take`](DropCounts::take) gave and that could
    /// not be sent; unknown names are ignored.
    pub(crate) fn restore(&self, counts: BTreeMap<&'static str, u64>) {
        for (name, n) in counts {
            if let Some(reason) = DropReason::ALL.iter().find(|r| r.as_str() == name) {
                self.add(*reason, n);
            }
        }
    }

    #[allow(dead_code)] // Until the `client_report` record takes them.
    /// `true` when nothing is counted.
    pub(crate) fn is_empty(&self) -> bool {
        self.counts
            .iter()
            .all(|count| count.load(Ordering::Relaxed) == 0)
    }

    /// The count for one reason, without taking it (debug log, tests).
    pub(crate) fn get(&self, reason: DropReason) -> u64 {
        self.counts[reason.index()].load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_taken_by_wire_name_and_restored() {
        let counts = DropCounts::default();
        assert!(counts.is_empty());
        counts.add(DropReason::SpoolBound, 3);
        counts.add(DropReason::FileSizeLimit, 2);
        counts.add(DropReason::Cap, 0);
        let taken = counts.take();
        assert_eq!(
            taken.into_iter().collect::<Vec<_>>(),
            [("file_size_limit", 2), ("spool_bound", 3)]
        );
        assert!(counts.is_empty());
        let mut back = BTreeMap::new();
        back.insert("spool_bound", 1);
        back.insert("no_such_reason", 9);
        counts.restore(back);
        assert_eq!(counts.get(DropReason::SpoolBound), 1);
    }

    #[test]
    fn wire_names_are_unique() {
        let mut names: Vec<&str> = DropReason::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 9);
    }
}
