//! What an app does in a CI run (`CI` set to anything but a false value):
//! the author's choice, [`CiPolicy`], given to the builder with
//! [`in_ci`](crate::TelemetryBuilder::in_ci).
//!
//! CI runners start from a fresh home on every job: a first-run notice
//! there holds every job's records and fills every job log, and an id file
//! written there counts every job as a new user. The default,
//! [`CiPolicy::Anonymous`], sends from CI without either. The opt-out
//! variables and a machine policy still win over every CI policy.

use serde::Serialize;

/// What telemetry does when the run is in CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CiPolicy {
    /// The default: no first-run notice and no hold (at most one line on
    /// stderr says that anonymous usage data is sent and which variable
    /// turns it off; `TELEMETRY_HIDE_BANNER` hides it); nothing is written
    /// under the config dir (no id, no notice marker, no spool: background
    /// delivery waits at exit within its budget, and drops what is left);
    /// every record carries a fresh id for this process and
    /// `"ephemeral_id": true`.
    #[default]
    Anonymous,
    /// Nothing is sent in CI.
    Skip,
    /// CI is treated like any other machine: the notice, its hold, the id
    /// file in the config dir.
    AsUser,
}

impl CiPolicy {
    /// The policy's name, as in the JSON status (`anonymous`, `skip`,
    /// `as_user`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CiPolicy::Anonymous => "anonymous",
            CiPolicy::Skip => "skip",
            CiPolicy::AsUser => "as_user",
        }
    }
}

display_as_str!(CiPolicy);

/// The one line an anonymous CI run prints instead of the notice.
pub(crate) fn ci_line(app: &str) -> String {
    format!(
        "{app}: anonymous usage data is sent from this CI run (with an id for this run only); set {}=false to turn it off.\n",
        crate::env::app_enabled_variable(app)
    )
}
