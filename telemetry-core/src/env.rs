//! Reading the environment: the lookup (the process's, or one a test
//! gives), how a value reads as a switch, and every `TELEMETRY_*` and
//! system variable the client reads.
//!
//! The environment is read once, when a client is built.

use crate::files::config_dir::{self, TargetOs};
use crate::record::detect;
use crate::record::tags;
use serde::Serialize;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// Any true value turns telemetry off, for every app (the convention of
/// <https://consoledonottrack.com>).
pub(crate) const DO_NOT_TRACK: &str = "DO_NOT_TRACK";
/// On, off or log for every app, after the app's own variable.
pub(crate) const TELEMETRY_ENABLED: &str = "TELEMETRY_ENABLED";
/// The endpoint for every app, after the app's own variable.
pub(crate) const TELEMETRY_ENDPOINT: &str = "TELEMETRY_ENDPOINT";
/// `k=v,k2=v2`: tags added to every record.
pub(crate) const TELEMETRY_TAGS: &str = "TELEMETRY_TAGS";
/// A true value hides the first-run notice.
pub(crate) const TELEMETRY_HIDE_BANNER: &str = "TELEMETRY_HIDE_BANNER";
/// Set by CI systems.
pub(crate) const CI: &str = "CI";
/// The user's home.
pub(crate) const HOME: &str = "HOME";
/// Set by `sudo`: root acting for another user.
pub(crate) const SUDO_UID: &str = "SUDO_UID";

/// What a switch variable accepts, for the messages about a value it does
/// not.
pub(crate) const SWITCH_WORDS: &str = "use true, false or log";

/// Reads one environment variable.
type Lookup = dyn Fn(&str) -> Option<OsString>;

/// Where environment variables come from.
pub(crate) struct Env {
    lookup: Box<Lookup>,
    /// The process's own environment: only then may the passwd entry stand
    /// in for an unset `HOME` (a test's environment stays self-contained).
    is_process: bool,
}

impl Env {
    /// The process environment.
    // The one read of the process environment in this crate (clippy.toml).
    #[allow(clippy::disallowed_methods)]
    pub(crate) fn process() -> Env {
        Env {
            is_process: true,
            ..Env::from_fn(|name| std::env::var_os(name))
        }
    }

    /// No variable is set.
    pub(crate) fn empty() -> Env {
        Env::from_fn(|_| None)
    }

    /// Variables read through `lookup`.
    pub(crate) fn from_fn(lookup: impl Fn(&str) -> Option<OsString> + 'static) -> Env {
        Env {
            lookup: Box::new(lookup),
            is_process: false,
        }
    }

    /// One variable's raw value.
    pub(crate) fn var(&self, name: &str) -> Option<OsString> {
        (self.lookup)(name)
    }

    /// One variable read as a switch.
    pub(crate) fn switch(&self, name: &str) -> Switch {
        read_switch(self.var(name).as_deref())
    }

    /// `<APP>_TELEMETRY_ENDPOINT`, else `TELEMETRY_ENDPOINT`, with the
    /// name of the variable that set it: `None` when both are unset or
    /// blank; `Err` with the variable's name when its value is not UTF-8.
    pub(crate) fn endpoint(&self, app: &str) -> Result<Option<(String, String)>, String> {
        for name in [app_endpoint_variable(app), TELEMETRY_ENDPOINT.to_owned()] {
            match self.var(&name) {
                None => {}
                Some(raw) => match raw.to_str() {
                    Some(text) if text.trim().is_empty() => {}
                    Some(text) => return Ok(Some((name, text.to_owned()))),
                    None => return Err(name),
                },
            }
        }
        Ok(None)
    }

    /// `TELEMETRY_TAGS`, parsed; a note for the debug log when it could
    /// not be read.
    pub(crate) fn tags(&self) -> (Vec<(String, String)>, Option<&'static str>) {
        match self.var(TELEMETRY_TAGS) {
            None => (Vec::new(), None),
            Some(raw) => match raw.to_str() {
                Some(text) => (tags::parse_tags(text), None),
                None => (
                    Vec::new(),
                    Some("TELEMETRY_TAGS is not valid UTF-8; no tags are added"),
                ),
            },
        }
    }

    /// `TELEMETRY_HIDE_BANNER` holds a true value.
    pub(crate) fn hide_banner(&self) -> bool {
        self.switch(TELEMETRY_HIDE_BANNER) == Switch::On
    }

    /// `CI` is set to anything but a false value.
    pub(crate) fn is_ci(&self) -> bool {
        !matches!(self.switch(CI), Switch::Unset | Switch::Off)
    }

    /// `ci_provider`: the CI provider's id, or empty.
    pub(crate) fn ci_provider(&self) -> &'static str {
        detect::ci_provider(&|name| self.var(name))
    }

    /// `HOME`, when set.
    pub(crate) fn home(&self) -> Option<PathBuf> {
        self.var(HOME).map(PathBuf::from)
    }

    /// `SUDO_UID` is set (to anything): with root, a run on behalf of
    /// another user.
    pub(crate) fn sudo_uid_set(&self) -> bool {
        self.var(SUDO_UID).is_some()
    }

    /// `ai_agent`: the AI coding agent's id, or empty.
    pub(crate) fn ai_agent(&self) -> &'static str {
        detect::ai_agent(&|name| self.var(name))
    }

    /// `os_language`, by the rules of [`config_dir::os_language`].
    pub(crate) fn os_language(&self) -> String {
        config_dir::os_language(&|name| self.var(name))
    }

    /// The default config dir for `app`, by the rules of
    /// [`config_dir::default_config_dir`] for this platform.
    pub(crate) fn default_config_dir(&self, app: &str) -> Option<PathBuf> {
        let passwd_home = || {
            if self.is_process {
                config_dir::passwd_home()
            } else {
                None
            }
        };
        config_dir::default_config_dir(
            app,
            TargetOs::current(),
            &|name| self.var(name),
            &passwd_home,
        )
    }
}

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

/// Reads a switch value the way every variable of this crate does: trimmed,
/// without regard to case.
pub(crate) fn read_switch(value: Option<&OsStr>) -> Switch {
    const ON: [&str; 4] = ["1", "true", "yes", "on"];
    const OFF: [&str; 4] = ["0", "false", "no", "off"];
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
    if ON.iter().any(|word| value.eq_ignore_ascii_case(word)) {
        Switch::On
    } else if OFF.iter().any(|word| value.eq_ignore_ascii_case(word)) {
        Switch::Off
    } else {
        Switch::Unrecognised
    }
}

/// How a switch variable's value read, in normalised words: the raw text is
/// never kept (it may be anything a user typed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SwitchValue {
    /// `1`, `true`, `yes`, `on`.
    True,
    /// `0`, `false`, `no`, `off`.
    False,
    /// `log`.
    Log,
    /// `errors`: on, sending failures only (the `errors` level).
    Errors,
    /// `local`: on, keeping records on this machine only (the `local`
    /// level): nothing is sent.
    Local,
    /// Anything else, non-UTF-8 included.
    Unrecognised,
}

impl SwitchValue {
    /// The word as in the JSON status (`true`, `false`, `log`, `errors`,
    /// `unrecognised`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SwitchValue::True => "true",
            SwitchValue::False => "false",
            SwitchValue::Log => "log",
            SwitchValue::Errors => "errors",
            SwitchValue::Local => "local",
            SwitchValue::Unrecognised => "unrecognised",
        }
    }
}

display_as_str!(SwitchValue);

/// Reads an `*_TELEMETRY_ENABLED` value; `None` when unset or blank.
pub(crate) fn read_enabled(value: Option<&OsStr>) -> Option<SwitchValue> {
    match read_switch(value) {
        Switch::Unset => None,
        Switch::On => Some(SwitchValue::True),
        Switch::Off => Some(SwitchValue::False),
        Switch::Unrecognised => {
            let word = value.and_then(OsStr::to_str).map(str::trim);
            let is = |expected: &str| word.is_some_and(|word| word.eq_ignore_ascii_case(expected));
            Some(if is("log") {
                SwitchValue::Log
            } else if is("errors") {
                SwitchValue::Errors
            } else if is("local") {
                SwitchValue::Local
            } else {
                SwitchValue::Unrecognised
            })
        }
    }
}

/// The prefix of an app's own variables: the app name upper-cased, every
/// character but ASCII letters and digits written `_` (`my-cli.2` →
/// `MY_CLI_2`, so `MY_CLI_2_TELEMETRY_ENABLED`).
#[must_use]
pub fn app_env_prefix(app: &str) -> String {
    app.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `<APP>_TELEMETRY_ENABLED` for this app.
pub(crate) fn app_enabled_variable(app: &str) -> String {
    format!("{}_TELEMETRY_ENABLED", app_env_prefix(app))
}

/// `<APP>_TELEMETRY_ENDPOINT` for this app.
pub(crate) fn app_endpoint_variable(app: &str) -> String {
    format!("{}_TELEMETRY_ENDPOINT", app_env_prefix(app))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
