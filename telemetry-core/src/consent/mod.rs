//! Whether telemetry is on, off or log-only for an app, and why: the rules
//! of precedence, the reasons, the user's controls and their `status`, the
//! first-run notice and the `telemetry` subcommand.

pub(crate) mod controls;
pub(crate) mod decide;
pub(crate) mod notice;
pub(crate) mod precedence;
pub(crate) mod reason;
pub(crate) mod status;
#[cfg(feature = "clap")]
pub mod subcommand;
