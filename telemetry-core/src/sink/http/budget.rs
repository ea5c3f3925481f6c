//! The process's time budget for slow answers (see "The process's time
//! budget" in the module docs of [`HttpSink`](crate::HttpSink)).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The process's time budget: the slow part of every request's wait,
/// summed over all threads.
pub(super) struct Budget {
    /// The budget, in nanoseconds.
    limit: AtomicU64,
    /// Charged so far, in nanoseconds.
    spent: AtomicU64,
}

/// The part of a request's wait that is never charged to the budget: a
/// prompt answer, even from across the world, costs nothing.
pub(crate) const PROMPT_ANSWER: Duration = Duration::from_millis(100);

impl Budget {
    pub(super) fn new(limit: Duration) -> Budget {
        Budget {
            limit: AtomicU64::new(nanos(limit)),
            spent: AtomicU64::new(0),
        }
    }

    pub(super) fn set_limit(&self, limit: Duration) {
        self.limit.store(nanos(limit), Ordering::Relaxed);
    }

    pub(super) fn limit(&self) -> Duration {
        Duration::from_nanos(self.limit.load(Ordering::Relaxed))
    }

    /// What is left; zero once spent.
    pub(super) fn left(&self) -> Duration {
        let limit = self.limit.load(Ordering::Relaxed);
        Duration::from_nanos(limit.saturating_sub(self.spent.load(Ordering::Relaxed)))
    }

    /// Charges a request that waited `waited`.
    pub(super) fn charge(&self, waited: Duration) {
        let slow = nanos(waited.saturating_sub(PROMPT_ANSWER));
        if slow > 0 {
            let _ = self
                .spent
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |spent| {
                    Some(spent.saturating_add(slow))
                });
        }
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Twice the request timeout: a collector that answers just under the
/// timeout gets two answers' worth of waiting, then nothing more.
pub(super) fn default_time_budget(timeout: Duration) -> Duration {
    timeout.saturating_mul(2)
}
