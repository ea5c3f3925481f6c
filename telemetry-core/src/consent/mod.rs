//! Whether telemetry is on, off or log-only for an app, how much it sends,
//! and why: the rules of precedence, the machine policy, the CI policy,
//! the levels, the reasons, the user's controls and their `status`, the
//! first-run notice and the `telemetry` subcommand.

pub(crate) mod app_consent;
pub(crate) mod ci_policy;
pub(crate) mod controls;
pub(crate) mod decide;
pub(crate) mod deletion;
pub(crate) mod level;
pub(crate) mod machine_policy;
pub(crate) mod notice;
pub(crate) mod precedence;
pub(crate) mod reason;
pub(crate) mod status;
#[cfg(feature = "clap")]
pub mod subcommand;
