//! Typed decisions: why a client is off ([`OffReason`]) and why a record
//! is held back instead of sent ([`HoldReason`]).
//!
//! Their `Display` is the sentence debug mode prints, so a test or a status
//! command can match on the value and a person can read the text.

use crate::env::{SWITCH_WORDS, TELEMETRY_ENABLED};
use std::fmt;

/// Why a client records nothing: the variable, the remembered choice or the
/// veto that decided (the same decision as [`Status`](crate::Status)'s
/// `decided_by`); see [`Telemetry::off_reason`](crate::Telemetry::off_reason).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OffReason {
    /// `DO_NOT_TRACK` holds a true value, or one that is neither true nor
    /// false (read as a wish not to be tracked).
    DoNotTrack,
    /// `TELEMETRY_ENABLED` holds a false value (`false`, `0`, `no`, `off`).
    EnabledIsFalse,
    /// `TELEMETRY_ENABLED` holds a value that is neither true nor false
    /// (fail closed; one warning line is printed).
    EnabledUnrecognised,
    /// The app's own `<APP>_TELEMETRY_ENABLED` holds a false value; it wins
    /// over `TELEMETRY_ENABLED`.
    AppEnabledIsFalse {
        /// The variable's name (`AGENT_TELEMETRY_ENABLED`).
        variable: String,
    },
    /// The app's own `<APP>_TELEMETRY_ENABLED` holds a value that is
    /// neither true, false nor `log` (fail closed; one warning line).
    AppEnabledUnrecognised {
        /// The variable's name (`AGENT_TELEMETRY_ENABLED`).
        variable: String,
    },
    /// The user ran `telemetry disable`: the choice remembered in the
    /// config dir (see [`Controls`](crate::Controls)).
    DisabledByChoice,
    /// The app name cannot name a config dir or a `source`.
    InvalidAppName,
    /// The endpoint variable (`<APP>_TELEMETRY_ENDPOINT` or
    /// `TELEMETRY_ENDPOINT`) is not valid UTF-8.
    EndpointNotUtf8 {
        /// The variable's name.
        variable: String,
    },
    /// No endpoint and no sink: nothing to send to.
    NoDestination,
    /// An endpoint is set but this build has no HTTP sink (the `http`
    /// feature is off), and no sink was given.
    NoHttpSupport,
    /// A setting the HTTP sink cannot use: the endpoint, the user agent or
    /// the API key. The text says which, never the value.
    #[cfg(feature = "http")]
    InvalidSetting(crate::InvalidSetting),
    /// The client was made by [`Telemetry::disabled`](crate::Telemetry::disabled)
    /// (or `Default`).
    DisabledInCode,
    /// The config dir, its id file or its notice marker is a symlink,
    /// another user's, or writable by other users: nothing in it is trusted
    /// or written, for this run. It is left as it is.
    ConfigDirRefused(crate::ConfigDirRefused),
    /// The remembered choice's file cannot be trusted (a link, another
    /// user's, writable by others, not a regular file, unreadable, empty or
    /// unknown content): off whatever the variables say, until it is fixed
    /// or removed.
    UntrustedChoice(crate::ChoiceNote),
    /// There is no usable config dir (none is set, it cannot be created,
    /// or it is not writable), so the first-run notice could not be
    /// remembered: it is not shown, and nothing is sent.
    NoConfigDir,
    /// The process runs as root on behalf of another user (`sudo`): nothing
    /// is written in that user's config dir, so the first-run notice could
    /// not be remembered.
    RootForAnotherUser,
    /// The app samples processes
    /// ([`sample_rate`](crate::TelemetryBuilder::sample_rate)) and this
    /// one drew out: it records and sends nothing. Not an opt-out: the
    /// user's choice is still on (`status` says so), and other processes
    /// send.
    SampledOut,
}

impl OffReason {
    /// `true` when the user asked for telemetry to be off (a variable or
    /// the remembered choice), as opposed to a setting the app got wrong or
    /// nothing to send to: only then are records spooled by earlier runs
    /// deleted unsent.
    pub(crate) fn is_opt_out(&self) -> bool {
        matches!(
            self,
            OffReason::DoNotTrack
                | OffReason::EnabledIsFalse
                | OffReason::EnabledUnrecognised
                | OffReason::AppEnabledIsFalse { .. }
                | OffReason::AppEnabledUnrecognised { .. }
                | OffReason::DisabledByChoice
                | OffReason::UntrustedChoice(_)
        )
    }
}

impl fmt::Display for OffReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("telemetry is off: ")?;
        match self {
            OffReason::DoNotTrack => f.write_str("DO_NOT_TRACK is set"),
            OffReason::EnabledIsFalse => f.write_str("TELEMETRY_ENABLED is false"),
            OffReason::EnabledUnrecognised => write!(
                f,
                "{TELEMETRY_ENABLED} has an unrecognised value ({SWITCH_WORDS})"
            ),
            OffReason::AppEnabledIsFalse { variable } => write!(f, "{variable} is false"),
            OffReason::AppEnabledUnrecognised { variable } => {
                write!(f, "{variable} has an unrecognised value ({SWITCH_WORDS})")
            }
            OffReason::DisabledByChoice => f.write_str(
                "disabled with `telemetry disable` (remembered in the config dir; `telemetry enable` undoes it)",
            ),
            OffReason::InvalidAppName => {
                write!(f, "the app name must be {}", crate::settings::app_name_rule())
            }
            OffReason::EndpointNotUtf8 { variable } => {
                write!(f, "{variable} is not valid UTF-8")
            }
            OffReason::NoDestination => f.write_str("no endpoint and no sink to send to"),
            OffReason::NoHttpSupport => f.write_str(
                "an endpoint is set, but this build has no HTTP sink (the `http` feature is off); give a sink instead",
            ),
            #[cfg(feature = "http")]
            OffReason::InvalidSetting(invalid) => write!(f, "{invalid}"),
            OffReason::DisabledInCode => f.write_str("the client was made disabled"),
            OffReason::ConfigDirRefused(refused) => write!(f, "{refused}"),
            OffReason::UntrustedChoice(note) => write!(
                f,
                "the remembered choice's file {note}, so it cannot be trusted; fix or remove it"
            ),
            OffReason::NoConfigDir => f.write_str(
                "no usable config dir to remember the first-run notice in, so it is not shown and nothing is sent",
            ),
            OffReason::RootForAnotherUser => f.write_str(
                "running as root on behalf of another user: nothing is written to that user's config dir, so nothing is sent",
            ),
            OffReason::SampledOut => f.write_str(
                "this process was sampled out (the app's sample_rate is below 1): it records and sends nothing",
            ),
        }
    }
}

/// Why a record was made (and logged in debug mode) but not sent: the
/// rule that nothing leaves the machine before the user could read the
/// first-run notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HoldReason {
    /// This run showed the notice; sending starts with the next run.
    FirstRun,
    /// Another run, started after this one, showed the notice (runs started
    /// together): this run shows it no more, and sending starts with the
    /// next run.
    ShownToAnotherRun,
}

impl fmt::Display for HoldReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HoldReason::FirstRun => {
                "first run: the notice was just shown; sending starts with the next run"
            }
            HoldReason::ShownToAnotherRun => {
                "first run: another run showed the notice after this one started; sending starts with the next run"
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_the_documented_sentences() {
        assert_eq!(
            OffReason::DoNotTrack.to_string(),
            "telemetry is off: DO_NOT_TRACK is set"
        );
        assert_eq!(
            OffReason::NoDestination.to_string(),
            "telemetry is off: no endpoint and no sink to send to"
        );
        let variable = "AGENT_TELEMETRY_ENABLED".to_owned();
        assert_eq!(
            OffReason::AppEnabledIsFalse { variable }.to_string(),
            "telemetry is off: AGENT_TELEMETRY_ENABLED is false"
        );
        assert!(OffReason::DisabledByChoice
            .to_string()
            .starts_with("telemetry is off: disabled with `telemetry disable`"));
        assert!(HoldReason::FirstRun.to_string().starts_with("first run"));
    }
}
