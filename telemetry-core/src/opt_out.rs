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
//! Values are compared trimmed and without regard to case. The third rule,
//! "nothing to send to → off", lives in the builder, which knows the sink.

use std::ffi::OsStr;

/// How an environment variable's value reads as a switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Switch {
    /// Unset, empty or blank.
    Unset,
    /// `1`, `true`, `yes`, `on`.
    On,
    /// `0`, `false`, `no`, `off`.
    Off,
    /// Anything else, including a value that is not UTF-8.
    Unrecognised,
}

/// Reads a switch value the way every variable of this crate does.
pub(crate) fn read_switch(value: Option<&OsStr>) -> Switch {
    let Some(value) = value else {
        return Switch::Unset;
    };
    let Some(value) = value.to_str() else {
        return Switch::Unrecognised;
    };
    let value = value.trim();
    if value.is_empty() {
        return Switch::Unset;
    }
    const ON: [&str; 4] = ["1", "true", "yes", "on"];
    const OFF: [&str; 4] = ["0", "false", "no", "off"];
    if ON.iter().any(|word| value.eq_ignore_ascii_case(word)) {
        Switch::On
    } else if OFF.iter().any(|word| value.eq_ignore_ascii_case(word)) {
        Switch::Off
    } else {
        Switch::Unrecognised
    }
}

/// Why telemetry is off, as told in the debug log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OptOut {
    /// `DO_NOT_TRACK` asked for it.
    DoNotTrack,
    /// `TELEMETRY_ENABLED` said no.
    Disabled,
    /// `TELEMETRY_ENABLED` held a value that is neither yes nor no.
    UnrecognisedEnabled,
}

impl OptOut {
    /// The sentence for the debug log.
    pub(crate) fn reason(&self) -> &'static str {
        match self {
            OptOut::DoNotTrack => "telemetry is off: DO_NOT_TRACK is set",
            OptOut::Disabled => "telemetry is off: TELEMETRY_ENABLED is false",
            OptOut::UnrecognisedEnabled => {
                "telemetry is off: TELEMETRY_ENABLED has an unrecognised value (use true or false)"
            }
        }
    }
}

/// Applies rules 1 and 2 to the two variables' values.
pub(crate) fn decide(
    do_not_track: Option<&OsStr>,
    telemetry_enabled: Option<&OsStr>,
) -> Result<(), OptOut> {
    match read_switch(do_not_track) {
        Switch::On | Switch::Unrecognised => return Err(OptOut::DoNotTrack),
        Switch::Off | Switch::Unset => {}
    }
    match read_switch(telemetry_enabled) {
        Switch::Off => Err(OptOut::Disabled),
        Switch::Unrecognised => Err(OptOut::UnrecognisedEnabled),
        Switch::On | Switch::Unset => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn switch_words() {
        let read = |text: &str| read_switch(Some(OsStr::new(text)));
        for on in ["1", "true", "TRUE", " yes ", "On"] {
            assert_eq!(read(on), Switch::On, "{on:?}");
        }
        for off in ["0", "false", "FALSE", " off ", "No"] {
            assert_eq!(read(off), Switch::Off, "{off:?}");
        }
        for unset in ["", "  "] {
            assert_eq!(read(unset), Switch::Unset, "{unset:?}");
        }
        for other in ["fasle", "2", "enabled", "t"] {
            assert_eq!(read(other), Switch::Unrecognised, "{other:?}");
        }
        assert_eq!(read_switch(None), Switch::Unset);
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_is_unrecognised() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![0x66, 0xff, 0x6f]);
        assert_eq!(read_switch(Some(&bad)), Switch::Unrecognised);
        assert_eq!(decide(Some(&bad), None), Err(OptOut::DoNotTrack));
        assert_eq!(decide(None, Some(&bad)), Err(OptOut::UnrecognisedEnabled));
    }
}
