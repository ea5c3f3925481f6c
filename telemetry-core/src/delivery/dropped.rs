//! Counting what this toolkit dropped before it could be sent, per reason.
//!
//! One [`DropCounts`] per enabled client, shared by `Arc` between the
//! recorder (the per-process cap), background delivery (a full queue, a
//! batch refused for good, the spool's bound) and the sinks (a batch too
//! large, back-off). Counting only: the recorder turns what
//! [`DropCounts::take`] returns into one `client_report` record
//! (`{"dropped": {reason: n}}`) in the next batch that goes out, and puts
//! back with [`DropCounts::restore`] what could not be sent.
//!
//! A record that an opt-out removed (the spool deleted unsent) is never
//! counted: the user asked for nothing to be sent, a report about it
//! included.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a record was dropped. [`DropReason::as_str`] is its name in a
/// `client_report`'s `dropped` object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum DropReason {
    /// Past the per-process cap ([`max_records`](crate::TelemetryBuilder::max_records)).
    Cap,
    /// Background delivery's queue was full and the record could not wait
    /// in the spool either.
    QueueFull,
    /// A batch over the backend's size limit.
    BatchTooLarge,
    /// Dropped from the spool to keep it within its bound.
    SpoolBound,
    /// The collector refused the record for good (a 4xx other than 408
    /// and 429, or an OTLP partial success).
    Rejected,
    /// The spool file could not grow past the process's file size limit.
    FileSizeLimit,
    /// No file descriptor was left to spool with.
    DescriptorShortage,
    /// A record whose timestamp a backend would refuse.
    InvalidTimestamp,
    /// An inline record dropped while the collector asked to wait.
    Backoff,
}

impl DropReason {
    /// Every reason, in the order of their wire names.
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

    fn from_name(name: &str) -> Option<DropReason> {
        DropReason::ALL
            .into_iter()
            .find(|reason| reason.as_str() == name)
    }
}

/// Records dropped per reason since they were last reported: lock-free,
/// shared by every thread of one client.
#[derive(Debug, Default)]
pub(crate) struct DropCounts {
    counts: [AtomicU64; 9],
}

impl DropCounts {
    /// Counts `n` records dropped for `reason`.
    pub(crate) fn add(&self, reason: DropReason, n: u64) {
        if n > 0 {
            let count = &self.counts[reason.index()];
            // Saturating: a count never wraps to a small number.
            let _ = count.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some(old.saturating_add(n))
            });
        }
    }

    /// The counts by wire name, each reset to zero; zeros are left out.
    pub(crate) fn take(&self) -> BTreeMap<&'static str, u64> {
        DropReason::ALL
            .into_iter()
            .filter_map(|reason| {
                let n = self.counts[reason.index()].swap(0, Ordering::Relaxed);
                (n > 0).then_some((reason.as_str(), n))
            })
            .collect()
    }

    /// Adds back counts that [`take`](Self::take) returned and that could
    /// not be sent. A name that is no reason's is ignored.
    pub(crate) fn restore(&self, counts: BTreeMap<&'static str, u64>) {
        for (name, n) in counts {
            if let Some(reason) = DropReason::from_name(name) {
                self.add(reason, n);
            }
        }
    }

    /// `true` when nothing was dropped since the last [`take`](Self::take).
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
    fn every_reason_has_its_own_wire_name_in_order() {
        let names: Vec<&str> = DropReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            names,
            [
                "cap",
                "queue_full",
                "batch_too_large",
                "spool_bound",
                "rejected",
                "file_size_limit",
                "descriptor_shortage",
                "invalid_timestamp",
                "backoff"
            ]
        );
        for (index, reason) in DropReason::ALL.into_iter().enumerate() {
            assert_eq!(reason.index(), index);
            assert_eq!(DropReason::from_name(reason.as_str()), Some(reason));
        }
    }

    #[test]
    fn take_empties_and_omits_zeros_and_restore_adds_back() {
        let counts = DropCounts::default();
        assert!(counts.is_empty());
        counts.add(DropReason::Cap, 3);
        counts.add(DropReason::Rejected, 2);
        counts.add(DropReason::Cap, 1);
        counts.add(DropReason::QueueFull, 0);
        assert!(!counts.is_empty());
        let taken = counts.take();
        assert_eq!(taken, BTreeMap::from([("cap", 4), ("rejected", 2)]));
        assert!(counts.is_empty());
        assert!(counts.take().is_empty());
        counts.add(DropReason::Cap, 1);
        counts.restore(taken);
        assert_eq!(counts.take(), BTreeMap::from([("cap", 5), ("rejected", 2)]));
    }

    #[test]
    fn counts_saturate() {
        let counts = DropCounts::default();
        counts.add(DropReason::Backoff, u64::MAX);
        counts.add(DropReason::Backoff, 5);
        assert_eq!(counts.take()["backoff"], u64::MAX);
    }

    #[test]
    fn counting_from_many_threads_loses_nothing() {
        let counts = std::sync::Arc::new(DropCounts::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counts = std::sync::Arc::clone(&counts);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        counts.add(DropReason::SpoolBound, 1);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(counts.take()["spool_bound"], 4000);
    }
}
