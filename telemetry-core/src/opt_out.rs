//! The opt-out rules: which environment variables turn telemetry off, and
//! in what order they are read (first match wins).
//!
//! 1. `DO_NOT_TRACK` set to a true value (`1`, `true`, `yes`, `on`) → off.
//!    A false value (`0`, `false`, `no`, `off`) or an empty one is ignored.
//!    Any other value, non-UTF-8 included, is read as a wish not to be
//!    tracked → off.
//! 2. `TELEMETRY_ENABLED`: a false value → off; a true value, empty or unset
//!    → on; any other value → off, with one warning line (fail closed).
//!
//! Values are compared trimmed and without regard to case (see
//! [`read_switch`](crate::env::read_switch)). The last rule, "nothing to
//! send to → off", is the recorder's, which chooses the sink.

use crate::env::{Env, Switch};
use crate::reason::OffReason;

/// Applies rules 1 and 2 to the environment.
pub(crate) fn decide(env: &Env) -> Result<(), OffReason> {
    match env.switch("DO_NOT_TRACK") {
        Switch::On | Switch::Unrecognised => return Err(OffReason::DoNotTrack),
        Switch::Off | Switch::Unset => {}
    }
    match env.switch("TELEMETRY_ENABLED") {
        Switch::Off => Err(OffReason::EnabledIsFalse),
        Switch::Unrecognised => Err(OffReason::EnabledUnrecognised),
        Switch::On | Switch::Unset => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn with(vars: &'static [(&'static str, &'static str)]) -> Env {
        Env::from_fn(move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(value))
        })
    }

    #[test]
    fn first_match_wins() {
        assert_eq!(decide(&with(&[])), Ok(()));
        let both = with(&[("DO_NOT_TRACK", "1"), ("TELEMETRY_ENABLED", "true")]);
        assert_eq!(decide(&both), Err(OffReason::DoNotTrack));
        let no = with(&[("DO_NOT_TRACK", "0"), ("TELEMETRY_ENABLED", " OFF ")]);
        assert_eq!(decide(&no), Err(OffReason::EnabledIsFalse));
        let odd = with(&[("TELEMETRY_ENABLED", "fasle")]);
        assert_eq!(decide(&odd), Err(OffReason::EnabledUnrecognised));
        assert_eq!(
            decide(&with(&[("DO_NOT_TRACK", "maybe")])),
            Err(OffReason::DoNotTrack)
        );
    }
}
