//! The `client_report` record: how many records this toolkit dropped
//! before they could be sent, by reason.
//!
//! ```json
//! {"event":"client_report","event_timestamp":1795620628495,"source":"<app>",
//!  "properties":{"dropped":{"cap":42,"rejected":3}, ...tags..., ...common fields...}}
//! ```
//!
//! The reasons and their names are those of the drop counter
//! (`delivery/dropped.rs`): `cap`, `queue_full`, `batch_too_large`,
//! `spool_bound`, `rejected`, `file_size_limit`, `descriptor_shortage`,
//! `invalid_timestamp`, `backoff`. A reason with nothing dropped is left
//! out. The recorder sends one in the next batch that goes out after
//! records were dropped (alongside a record, or alone at a flush point);
//! with background delivery it is spooled like any record, so counts that
//! this process could not send reach the collector with a later run.
//! It is never capped, and never made about records that an opt-out
//! removed.

use std::collections::BTreeMap;

/// Records dropped before they could be sent, by reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientReportEvent {
    /// Reason (`cap`, `queue_full`, ...) → records dropped for it since the
    /// last report; never empty, no zero counts.
    pub dropped: BTreeMap<&'static str, u64>,
}

/// The `client_report` event's property names.
pub(crate) const CLIENT_REPORT_KEYS: &[&str] = &["dropped"];
