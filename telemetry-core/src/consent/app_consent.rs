//! What the app's author decides about consent, kept beside the
//! [`Settings`](crate::settings::Settings) (which sit below this layer and
//! know nothing of it): the most the app sends, what it does in CI, where
//! the machine policy is read, and the notice's version.

use super::ci_policy::CiPolicy;
use super::level::Level;
use super::machine_policy::PolicyDirs;

/// The app's consent choices, filled by the builder and read by the
/// decision and the recorder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppConsent {
    /// The most the app allows (default `All`).
    pub(crate) level: Level,
    /// What to do in CI.
    pub(crate) ci_policy: CiPolicy,
    /// Where machine policy files are read.
    pub(crate) policy_dirs: PolicyDirs,
    /// The first-run notice's version (default 1).
    pub(crate) notice_version: u32,
    /// What changed in the notice, said when a raised version shows it
    /// again.
    pub(crate) notice_changes: Option<String>,
}

impl Default for AppConsent {
    fn default() -> AppConsent {
        AppConsent {
            level: Level::All,
            ci_policy: CiPolicy::Anonymous,
            policy_dirs: PolicyDirs::System,
            notice_version: 1,
            notice_changes: None,
        }
    }
}
