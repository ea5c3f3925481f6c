//! The per-process cap on records sent
//! ([`max_records`](crate::TelemetryBuilder::max_records), default
//! [`DEFAULT_MAX_RECORDS`]).
//!
//! Each enabled client counts the records it sends (a program has one
//! client, so this is the process's count); past the cap a record is not
//! made at all, only counted as dropped for `cap`, and the `client_report`
//! says how many. The report itself is never capped. Log-only mode sends
//! nothing and is not capped; a run held by the first-run notice sends
//! nothing and counts nothing.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The per-process cap on records sent, unless
/// [`max_records`](crate::TelemetryBuilder::max_records) says otherwise.
pub const DEFAULT_MAX_RECORDS: u64 = 10_000;

/// Records one client may send in its process.
#[derive(Debug)]
pub(crate) struct Cap {
    max: u64,
    sent: AtomicU64,
    /// Set once the cap was reached (debug mode says so once).
    reached: AtomicBool,
}

/// What the cap says about one more record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Within the cap: send it.
    Yes,
    /// Past the cap, for the first time in this process.
    FirstRefused,
    /// Past the cap.
    Refused,
}

impl Cap {
    /// A cap of `max` records.
    pub(crate) fn new(max: u64) -> Cap {
        Cap {
            max,
            sent: AtomicU64::new(0),
            reached: AtomicBool::new(false),
        }
    }

    /// Counts one more record, and says whether it is within the cap. Exact
    /// under concurrency: at most `max` calls are ever admitted.
    pub(crate) fn admit(&self) -> Admit {
        // Stops counting at the cap, so the counter cannot wrap.
        let counted = self
            .sent
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |sent| {
                (sent < self.max).then_some(sent + 1)
            });
        if counted.is_ok() {
            Admit::Yes
        } else if self.reached.swap(true, Ordering::Relaxed) {
            Admit::Refused
        } else {
            Admit::FirstRefused
        }
    }

    /// The cap.
    pub(crate) fn max(&self) -> u64 {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_exactly_max_then_refuses() {
        let cap = Cap::new(3);
        let admitted: Vec<Admit> = (0..6).map(|_| cap.admit()).collect();
        assert_eq!(
            admitted,
            [
                Admit::Yes,
                Admit::Yes,
                Admit::Yes,
                Admit::FirstRefused,
                Admit::Refused,
                Admit::Refused
            ]
        );
        assert_eq!(Cap::new(0).admit(), Admit::FirstRefused);
    }

    #[test]
    fn many_threads_get_exactly_max_admissions() {
        let cap = std::sync::Arc::new(Cap::new(1000));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let cap = std::sync::Arc::clone(&cap);
                std::thread::spawn(move || (0..500).filter(|_| cap.admit() == Admit::Yes).count())
            })
            .collect();
        let admitted: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(admitted, 1000);
    }
}
