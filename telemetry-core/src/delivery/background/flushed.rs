//! How a flush ended.

/// How a flush ended ([`Telemetry::flush`](crate::Telemetry::flush),
/// [`FlushGuard::flush`](crate::FlushGuard::flush)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flushed {
    /// Everything queued before the flush was acknowledged (or refused for
    /// good).
    Delivered,
    /// Sending had stopped; what was not sent is in the spool.
    Stopped,
    /// The timeout passed with this many records not yet settled; they are
    /// in the spool (unless it is unusable).
    TimedOut {
        /// Records queued before the flush and not yet settled.
        pending: u64,
    },
    /// Another run turned telemetry off: what was held was dropped, and
    /// nothing more is sent.
    OptedOut,
    /// Deferred delivery: no upload was due (or another process was
    /// uploading); the records wait in the deferred spool for a later run.
    Deferred,
}
