//! How records leave a client: [`Delivery`] (inline, the default,
//! background or deferred), and the flush points of background and
//! deferred delivery.
//!
//! # Background delivery, wired
//!
//! With [`Delivery::Background`], [`Recorder::deliver`](crate::recorder)
//! hands each record to a [`Background`](crate::delivery::background::Background):
//! it is appended to this process's spool file and queued, and the call
//! returns; a sender thread posts batches through the sink's
//! [`send_serialised`](crate::Sink::send_serialised). Three flush points
//! wait for the queue, each at most the exit budget
//! ([`TelemetryBuilder::exit_budget`](crate::TelemetryBuilder::exit_budget),
//! default 1 s):
//!
//! - the end of the outermost `#[tracked_command]` call (the command's own
//!   record included): commands in progress are counted per client, so a
//!   nested or concurrent command does not flush, the last one to end does;
//! - [`Telemetry::flush`](crate::Telemetry::flush), at any time;
//! - the drop of the [`FlushGuard`](crate::FlushGuard) from
//!   [`Telemetry::flush_guard`](crate::Telemetry::flush_guard), held in
//!   `main` (it also tidies the spool file).
//!
//! What is not acknowledged by then stays in the spool, and a later run
//! with telemetry on sends it after its own records, giving it at most a
//! quarter of its exit budget (see [`background`]). In inline mode every
//! flush returns at once: each record was sent when it was recorded.
//!
//! # Deferred delivery
//!
//! With [`Delivery::Deferred`], a record is appended to one spool file
//! shared by every process of the app, and the same three flush points
//! upload it only when an upload is due (at most once per
//! `upload_every`); a run inside the interval opens no connection. See
//! the `deferred` module's notes for the whole contract, durability
//! included (a power cut may lose the last records).

// Public (hidden) for benches/background.rs. Its process tests read the
// variables their parent sets for the child (test builds only).
#[doc(hidden)]
#[cfg_attr(test, allow(clippy::disallowed_methods))]
pub mod background;
pub(crate) mod backoff;
pub(crate) mod deferred;
pub(crate) mod dropped;
#[doc(hidden)]
pub mod spool;

use std::time::Duration;

/// How an enabled client delivers its records. Set it with
/// [`TelemetryBuilder::delivery`](crate::TelemetryBuilder::delivery).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Delivery {
    /// Each record is sent when it is recorded; the recording call returns
    /// once the collector answered or the attempt failed. Nothing is in
    /// flight at exit, nothing is written to disk. The default: right for
    /// a collector nearby (loopback, the same network).
    #[default]
    Inline,
    /// Each record is appended to a write-ahead spool file in the config
    /// dir and queued, and the call returns at once; a sender thread posts
    /// batches over one keep-alive connection. The flush points wait at
    /// most the exit budget; what is not delivered by then is sent by a
    /// later run. For a collector across the internet. Needs a sink that
    /// sends serialised records (the HTTP sink does); with another sink the
    /// client delivers inline and the debug log says so.
    Background,
    /// Each record is appended to one spool file in the config dir, shared
    /// by every process of the app, and the call returns at once; nothing
    /// is sent unless an upload is due: none recorded yet, or the last
    /// attempt (success or not) at least `upload_every` ago. A due process
    /// uploads the whole spool in batches at its exit flush, within the
    /// exit budget; one process uploads at a time. A run inside the
    /// interval costs a file append and opens no connection. For short,
    /// frequent command-line runs where freshness matters less than cost.
    /// `upload_every` zero uploads on every run. In CI it behaves as
    /// [`Inline`](Delivery::Inline); like background delivery it needs a
    /// sink that sends serialised records.
    Deferred {
        /// The least time between two upload attempts.
        upload_every: Duration,
    },
}

impl Delivery {
    /// The default interval of [`Delivery::deferred`]: one hour.
    pub const DEFAULT_UPLOAD_EVERY: Duration = Duration::from_secs(60 * 60);

    /// Deferred delivery uploading at most once an hour.
    #[must_use]
    pub const fn deferred() -> Delivery {
        Delivery::Deferred {
            upload_every: Delivery::DEFAULT_UPLOAD_EVERY,
        }
    }

    /// The mode's name, as `status` shows it: `inline`, `background` or
    /// `deferred`.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Delivery::Inline => "inline",
            Delivery::Background => "background",
            Delivery::Deferred { .. } => "deferred",
        }
    }
}

/// At most `max_records` records and `max_bytes` bytes of their JSON: one
/// batch of background delivery, the deferred spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordBound {
    /// Most records.
    pub(crate) max_records: usize,
    /// Most bytes of the records' JSON.
    pub(crate) max_bytes: usize,
}
