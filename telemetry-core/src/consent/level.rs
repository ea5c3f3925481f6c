//! How much telemetry sends: the levels, ranked by how much leaves the
//! machine. Every source of a level (a variable, the remembered choice, a
//! machine policy, the app's builder) can only lower it: the most
//! restrictive one wins.
//!
//! | level | what is recorded | what is sent |
//! |---|---|---|
//! | `off` | nothing | nothing |
//! | `local` | every record, kept on this machine | nothing |
//! | `errors` | failed commands and failed tool calls | those |
//! | `all` | everything | everything |

use crate::record::event::Event;
use serde::Serialize;

/// How much telemetry records and sends, from the most restrictive to the
/// least: `Off < Local < Errors < All` (the derived order), so that the
/// smaller of two levels is the stricter one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Level {
    /// Nothing is recorded or sent.
    Off,
    /// Records are kept on this machine only (the local history), never
    /// sent: the most restrictive level that still records.
    Local,
    /// Only failures are sent: failed commands and failed tool calls (no
    /// token usage, no sessions, no successful call).
    Errors,
    /// Everything is sent.
    All,
}

impl Level {
    /// The level's word, as in a policy file and the JSON status (`off`,
    /// `local`, `errors`, `all`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::Local => "local",
            Level::Errors => "errors",
            Level::All => "all",
        }
    }

    /// Reads a level's word, trimmed and without regard to ASCII case;
    /// `None` for anything else.
    #[must_use]
    pub fn parse(word: &str) -> Option<Level> {
        let word = word.trim();
        [Level::Off, Level::Local, Level::Errors, Level::All]
            .into_iter()
            .find(|level| word.eq_ignore_ascii_case(level.as_str()))
    }

    /// Whether records made at this level leave the machine.
    #[must_use]
    pub fn sends(self) -> bool {
        matches!(self, Level::Errors | Level::All)
    }

    /// Whether this level sends (or, in log-only mode, prints) `event`:
    /// at `errors`, only a failed command or tool call.
    pub(crate) fn admits(self, event: &Event) -> bool {
        match self {
            Level::Off => false,
            Level::Local | Level::All => true,
            Level::Errors => match event {
                Event::Command(command) => !command.outcome.is_success(),
                Event::Tool(tool) => !tool.outcome.is_success(),
                _ => false,
            },
        }
    }
}

display_as_str!(Level);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_is_the_order_of_strictness() {
        assert!(Level::Off < Level::Local);
        assert!(Level::Local < Level::Errors);
        assert!(Level::Errors < Level::All);
        assert_eq!(Level::All.min(Level::Errors), Level::Errors);
        assert_eq!(Level::Local.min(Level::Errors), Level::Local);
    }

    #[test]
    fn words_round_trip() {
        for level in [Level::Off, Level::Local, Level::Errors, Level::All] {
            assert_eq!(Level::parse(level.as_str()), Some(level));
            assert_eq!(
                serde_json::to_value(level).unwrap(),
                serde_json::json!(level.as_str())
            );
        }
        assert_eq!(Level::parse(" ERRORS "), Some(Level::Errors));
        for bad in ["", "error", "none", "everything"] {
            assert_eq!(Level::parse(bad), None, "{bad:?}");
        }
        assert!(!Level::Local.sends());
        assert!(Level::Errors.sends());
    }
}
