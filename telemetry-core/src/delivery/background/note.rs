//! What background delivery says in the debug log: [`Note`]. Its `Display`
//! gives the sentence; it never names a path, a record or the endpoint.

use crate::delivery::spool::{Bound, Drops, SpoolError};
use crate::sink::SendError;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Something the debug log should say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The spool cannot be used; records are sent but not kept on disk.
    SpoolUnusable(SpoolError),
    /// A leftover spool file was skipped or could not be tidied.
    LeftoverProblem(SpoolError),
    /// Leftovers of earlier runs were claimed and queued behind this run's
    /// own records.
    LeftoversQueued {
        /// Records queued.
        records: usize,
        /// Files they were merged from.
        files: usize,
    },
    /// Leftover records were dropped while claiming.
    LeftoversDropped(Drops),
    /// Sending stopped for this process; the rest waits in the spool.
    Stopped(SendError),
    /// The collector refused a batch for good (4xx); it was dropped.
    Refused {
        /// The HTTP status.
        status: u16,
        /// Records in the batch.
        records: usize,
    },
    /// The collector accepted a batch but refused some of its records (an
    /// OTLP partial success); the batch is not sent again.
    PartlyRefused {
        /// Records the collector refused.
        rejected: u64,
        /// Records in the batch.
        records: usize,
    },
    /// The queue was full: records are only in the spool, for the next run.
    QueueFull,
    /// The live spool file reached its bound: it was compacted and its
    /// oldest pending records dropped (said once, at the first drop).
    SpoolTrimmed {
        /// Records dropped by this compaction.
        dropped: u64,
        /// The bound.
        bound: Bound,
    },
    /// Records dropped from the live spool file in all, at a flush point's
    /// tidy-up when more were dropped since it was last said.
    SpoolDropped {
        /// Records dropped since the process started.
        total: u64,
    },
    /// Another run turned telemetry off (it deleted this process's spool
    /// file, or remembered the choice `disabled`): what this process held
    /// was dropped, and nothing more is sent.
    OptedOut,
    /// A flush point's account: what was left for a later run when the
    /// budget ran out, and what the leftovers of earlier runs cost.
    Account(Account),
}

/// What a flush point's wait left behind and spent, for the debug log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Account {
    /// This run's records not delivered when the budget ran out (they are
    /// in the spool for a later run).
    pub own_left: u64,
    /// Leftover records of earlier runs sent by this process so far.
    pub leftovers_sent: u64,
    /// Leftover records claimed and not sent: in the spool for a later run.
    pub leftovers_left: u64,
    /// Leftover files merged, removed whole, and stale temporaries removed.
    pub files_merged: usize,
    /// Leftover files removed (beyond the bound, or emptied).
    pub files_removed: usize,
    /// Time the flush points waited for leftovers, in all.
    pub leftover_wait: Duration,
    /// The most they could have waited: a quarter of each budget.
    pub leftover_share: Duration,
    /// The time the claim of leftovers took (on the sender thread).
    pub claim_time: Duration,
    /// Whether the claim is done (else it was still running).
    pub claim_done: bool,
    /// Time the flush points waited in all, and their budgets in all.
    pub flush_wait: Duration,
    /// See `flush_wait`.
    pub flush_budget: Duration,
    /// The most spool files this process held open at once.
    pub peak_open_files: usize,
    /// Records dropped so far, by reason (wire names).
    pub dropped: BTreeMap<&'static str, u64>,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::SpoolUnusable(error) => write!(f, "spool: {error}"),
            Note::LeftoverProblem(error) => write!(f, "spool leftovers: {error}"),
            Note::LeftoversQueued { records, files } => write!(
                f,
                "sending {records} records left by earlier runs ({files} spool files merged), after this run's own"
            ),
            Note::LeftoversDropped(drops) => write!(f, "{drops}"),
            Note::Stopped(error) => write!(
                f,
                "background delivery stopped ({error}); the rest stays in the spool for the next run"
            ),
            Note::Refused { status, records } => write!(
                f,
                "the collector refused a batch of {records} records (HTTP {status}); it will not be sent again"
            ),
            Note::PartlyRefused { rejected, records } => write!(
                f,
                "the collector refused {rejected} of a batch of {records} records; the batch will not be sent again"
            ),
            Note::QueueFull => f.write_str(
                "the delivery queue is full; further records wait in the spool for the next run",
            ),
            Note::SpoolTrimmed { dropped, bound } => write!(
                f,
                "the spool file reached its bound ({} records / {} bytes, or the file-size limit); its {dropped} oldest records were dropped from it (those still queued are still sent)",
                bound.records, bound.bytes
            ),
            Note::SpoolDropped { total } => write!(
                f,
                "in all, {total} of the oldest records were dropped from the spool file to keep it within its bound"
            ),
            Note::OptedOut => f.write_str(
                "telemetry was turned off by another run: what this process held was dropped, and nothing more is sent",
            ),
            Note::Account(account) => {
                write!(
                f,
                "flush: waited {} ms of a {} ms budget; {} records of this run left for a later run; leftovers: {} sent, {} left for a later run, {} files merged, {} removed, waited for {} ms of a {} ms share (claim {} {} ms); at most {} spool files open at once",
                account.flush_wait.as_millis(),
                account.flush_budget.as_millis(),
                account.own_left,
                account.leftovers_sent,
                account.leftovers_left,
                account.files_merged,
                account.files_removed,
                account.leftover_wait.as_millis(),
                account.leftover_share.as_millis(),
                if account.claim_done { "took" } else { "still running:" },
                account.claim_time.as_millis(),
                account.peak_open_files
            )?;
                if !account.dropped.is_empty() {
                    f.write_str("; dropped so far:")?;
                    for (reason, n) in &account.dropped {
                        write!(f, " {reason}={n}")?;
                    }
                }
                Ok(())
            }
        }
    }
}
