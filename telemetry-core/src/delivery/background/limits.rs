//! The background sender's sizes and timings, and the functions it is
//! given: how it sends a batch and where its notes go.

use super::Note;
use crate::delivery::spool::{Bound, ClaimLimits};
use crate::sink::SendError;
use std::time::Duration;

/// [`Limits::short_run`] with the toolkit's HTTP sink: for this long after
/// the client's start the sender waits, and a flush point sends on its own
/// thread (see "Short runs" above).
pub const SHORT_RUN: Duration = Duration::from_millis(50);

/// ... unless this many records wait: a batch worth the sender's turn.
pub const SHORT_RUN_RECORDS: usize = 100;

/// How long a [`FlushGuard`](crate::FlushGuard) waits at exit by default.
pub const DEFAULT_EXIT_BUDGET: Duration = Duration::from_secs(1);

/// Delivers one batch of records, each already its wire JSON; returns once
/// the collector accepted them or the attempt failed. Called one batch at
/// a time: from the sender thread, or from a flush point's own thread
/// before the sender's turn (a short run).
pub type SendFn = Box<dyn Fn(&[String]) -> Result<(), SendError> + Send + Sync>;

/// Receives what the debug log should say.
pub type NoteFn = Box<dyn Fn(&Note) + Send + Sync>;

/// Most records in one batch by default: a burst of a thousand events
/// goes in one round trip.
pub const BATCH_RECORDS: usize = 2_000;

/// Most bytes of records' JSON in one batch by default (2 MiB).
pub const BATCH_BYTES: usize = 2 * 1024 * 1024;

/// Sizes of the queue, batches and live spool, and what leftovers may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most records in one batch (default [`BATCH_RECORDS`]).
    pub batch_records: usize,
    /// Most bytes of records' JSON in one batch (default [`BATCH_BYTES`]);
    /// a single larger record goes alone.
    pub batch_bytes: usize,
    /// Most records waiting in memory (default 10,000).
    pub queue_records: usize,
    /// How large this process's spool file grows (default 10,000 records
    /// / 4 MiB, as the leftovers a later run keeps); past it, its oldest
    /// records are dropped first.
    pub spool: Bound,
    /// What one claim of leftovers keeps and how long it may work (default
    /// 10,000 records / 4 MiB, a quarter of the default exit budget).
    pub claim: ClaimLimits,
    /// The sender waits this long after the client's start (unless
    /// [`SHORT_RUN_RECORDS`] records wait) before it sends; a flush point
    /// before then sends on its own thread (see "Short runs" above).
    /// Default zero: the sender sends from the first record. Only for a
    /// send function that ends its requests by the flush's deadline, as
    /// the toolkit's HTTP sink does ([`SHORT_RUN`] with it): a flush waits
    /// for a send on its own thread.
    pub short_run: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            batch_records: BATCH_RECORDS,
            batch_bytes: BATCH_BYTES,
            queue_records: 10_000,
            spool: Bound::default(),
            claim: ClaimLimits {
                time: DEFAULT_EXIT_BUDGET / 4,
                ..ClaimLimits::default()
            },
            short_run: Duration::ZERO,
        }
    }
}
