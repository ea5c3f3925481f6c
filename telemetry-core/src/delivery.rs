//! How records leave a client: [`Delivery`] (inline, the default, or
//! background), the flush points of background delivery, and the
//! [`FlushGuard`] an app holds in `main`.
//!
//! # Background delivery, wired
//!
//! With [`Delivery::Background`], [`Recorder::deliver`](crate::recorder)
//! hands each record to a [`Background`](crate::background::Background):
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
//! - the drop of the [`FlushGuard`] from
//!   [`Telemetry::flush_guard`](crate::Telemetry::flush_guard), held in
//!   `main` (it also tidies the spool file).
//!
//! What is not acknowledged by then stays in the spool, and the next run
//! with telemetry on sends it first. In inline mode every flush returns at
//! once: each record was sent when it was recorded.

use crate::background::Flushed;
use crate::recorder::Recorder;
use std::sync::Arc;

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
}

/// Flushes background delivery when dropped, within the client's exit
/// budget, then tidies the spool. Get it from
/// [`Telemetry::flush_guard`](crate::Telemetry::flush_guard) and hold it in
/// `main`, so that the process flushes on its way out:
///
/// ```
/// use telemetry_core::{Delivery, MemorySink, Telemetry};
///
/// let telemetry = Telemetry::isolated("my-cli", "1.0.0")
///     .sink(MemorySink::new())
///     .delivery(Delivery::Background)
///     .build();
/// let _flush = telemetry.flush_guard();
/// telemetry_core::set_global(telemetry);
/// // ... the program ...
/// ```
///
/// For an inline or disabled client it does nothing.
#[must_use = "the flush happens when the guard is dropped; hold it in main"]
pub struct FlushGuard {
    recorder: Option<Arc<Recorder>>,
}

impl FlushGuard {
    pub(crate) fn new(recorder: Option<Arc<Recorder>>) -> FlushGuard {
        FlushGuard { recorder }
    }

    /// Flushes now, within the exit budget, without tidying the spool.
    // Called for its effect (it waits for delivery); the outcome is for
    // callers that care, and ignoring it is fine, so no `#[must_use]`.
    #[allow(clippy::must_use_candidate)]
    pub fn flush(&self) -> Flushed {
        self.recorder
            .as_ref()
            .map_or(Flushed::Delivered, |recorder| recorder.flush(None))
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        if let Some(recorder) = &self.recorder {
            recorder.finish();
        }
    }
}

impl std::fmt::Debug for FlushGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlushGuard")
            .field("enabled", &self.recorder.is_some())
            .finish()
    }
}
