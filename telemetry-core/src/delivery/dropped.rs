//! Records this toolkit dropped before they could be sent, counted by
//! reason: the counts a `client_report` record carries upstream.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a record was dropped before it could be sent. `as_str` is its wire
/// name in a `client_report`'s `dropped` map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum DropReason {
    /// Past the per-process cap.
    Cap,
    /// The in-memory queue was full.
    QueueFull,
    /// Larger than a batch may be.
    BatchTooLarge,
    /// Past the spool's bound (records or bytes): the oldest go.
    SpoolBound,
    /// The collector refused it for good.
    Rejected,
    /// Writing it would pass the process's file size limit.
    FileSizeLimit,
    /// No descriptor was left to write it.
    DescriptorShortage,
    /// Its timestamp was not a sane time.
    InvalidTimestamp,
    /// Recorded inline while the collector asked to wait.
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

    /// The wire name.
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

/// Drop counts of one enabled client, shared by `Arc`: lock-free, one
/// counter per reason.
#[derive(Debug, Default)]
pub(crate) struct DropCounts {
    counts: [AtomicU64; 9],
}

// `take`, `restore` and `is_empty` are read by the client report.
#[allow(dead_code)]
impl DropCounts {
    /// Counts `n` records dropped for `reason`.
    pub(crate) fn add(&self, reason: DropReason, n: u64) {
        if n > 0 {
            self.counts[reason.index()].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The counts so far, by wire name (zeros omitted), each swapped to
    /// zero.
    pub(crate) fn take(&self) -> BTreeMap<&'static str, u64> {
        DropReason::ALL
            .iter()
            .filter_map(|reason| {
                let n = self.counts[reason.index()].swap(0, Ordering::Relaxed);
                (n > 0).then_some((reason.as_str(), n))
            })
            .collect()
    }

    /// Adds back counts that [`take`](DropCounts::take) gave and that could
    /// not be sent.
    pub(crate) fn restore(&self, counts: &BTreeMap<&'static str, u64>) {
        for reason in DropReason::ALL {
            if let Some(n) = counts.get(reason.as_str()) {
                self.add(reason, *n);
            }
        }
    }

    /// `true` when nothing has been counted (or all was taken).
    pub(crate) fn is_empty(&self) -> bool {
        self.counts
            .iter()
            .all(|count| count.load(Ordering::Relaxed) == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_taken_once_and_restored() {
        let counts = DropCounts::default();
        assert!(counts.is_empty());
        counts.add(DropReason::SpoolBound, 3);
        counts.add(DropReason::Rejected, 1);
        counts.add(DropReason::Cap, 0);
        let taken = counts.take();
        assert_eq!(
            taken.into_iter().collect::<Vec<_>>(),
            vec![("rejected", 1), ("spool_bound", 3)]
        );
        assert!(counts.is_empty());
        counts.restore(&BTreeMap::from([("spool_bound", 2)]));
        assert_eq!(counts.take().get("spool_bound"), Some(&2));
    }

    #[test]
    fn every_reason_has_its_own_wire_name() {
        let names: std::collections::BTreeSet<_> = DropReason::ALL
            .iter()
            .map(|reason| reason.as_str())
            .collect();
        assert_eq!(names.len(), DropReason::ALL.len());
    }
}
