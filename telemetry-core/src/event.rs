//! The four kinds of event, as typed values.
//!
//! Each struct holds exactly the fields its wire record carries under
//! `properties` (see [`Record`](crate::Record) for the whole record).

use crate::Outcome;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

/// Longest name (action, tool, model, agent) kept, in bytes; longer names are
/// cut at a character boundary so that every record stays small.
pub const MAX_NAME_LEN: usize = 128;

/// One telemetry event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A command of the program ran (`"event":"command"`).
    Command(CommandEvent),
    /// A tool was called (`"event":"tool"`).
    Tool(ToolEvent),
    /// A model call used tokens (`"event":"token"`).
    Token(TokenEvent),
    /// A session started (`"event":"session"`, `"action":"start"`).
    SessionStart(SessionStartEvent),
    /// A session ended (`"event":"session"`, `"action":"end"`).
    SessionEnd(SessionEndEvent),
}

impl Event {
    /// The record's `event` field: `command`, `tool`, `token` or `session`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Command(_) => "command",
            Event::Tool(_) => "tool",
            Event::Token(_) => "token",
            Event::SessionStart(_) | Event::SessionEnd(_) => "session",
        }
    }
}

/// A command ran: `action` is the command's name, `args` its flag names.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandEvent {
    /// The command's name, such as `run`.
    pub action: Cow<'static, str>,
    /// Flag names only (`--model`), never values or positionals.
    pub args: Vec<String>,
    /// Wall time of the command, in milliseconds.
    pub duration_ms: u64,
    /// How it ended.
    pub outcome: Outcome,
}

/// A tool was called, within a session when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolEvent {
    /// The tool's name, such as `read_file`.
    pub tool_name: Cow<'static, str>,
    /// The session's id, empty outside a session.
    pub session_id: Arc<str>,
    /// The session's agent, empty outside a session.
    pub agent_name: Arc<str>,
    /// Wall time of the call, in milliseconds.
    pub duration_ms: u64,
    /// How it ended.
    pub outcome: Outcome,
}

/// Tokens used by one model call, and that call's cost.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenEvent {
    /// The session's id, empty outside a session.
    pub session_id: Arc<str>,
    /// The session's agent, empty outside a session.
    pub agent_name: Arc<str>,
    /// The model's name, such as `gpt-4o`.
    pub model_name: Cow<'static, str>,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// This call's cost (not a running total); finite and non-negative.
    pub cost: f64,
}

impl TokenEvent {
    /// `input_tokens + output_tokens`, saturating at `u64::MAX`.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

/// A session started.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionStartEvent {
    /// The session's id, a random UUID.
    pub session_id: Arc<str>,
    /// The agent that runs the session.
    pub agent_name: Arc<str>,
}

/// A session ended, with its totals.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEndEvent {
    /// The session's id.
    pub session_id: Arc<str>,
    /// The agent that ran the session.
    pub agent_name: Arc<str>,
    /// Wall time from start to end, in milliseconds.
    pub duration_ms: u64,
    /// Tool calls made in this session (not in its child sessions).
    pub tool_calls: u64,
    /// Prompt tokens used in this session.
    pub input_tokens: u64,
    /// Completion tokens used in this session.
    pub output_tokens: u64,
    /// Summed cost of this session's model calls.
    pub cost: f64,
    /// Failed, panicked or cancelled tool calls, plus errors recorded with
    /// [`Session::record_error`](crate::Session::record_error).
    pub error_count: u64,
    /// The distinct error kinds seen, in the order first seen (at most
    /// [`MAX_SESSION_ERROR_KINDS`]).
    pub errors: Vec<Cow<'static, str>>,
}

impl SessionEndEvent {
    /// `input_tokens + output_tokens`, saturating at `u64::MAX`.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }

    /// A session succeeded when it saw no error.
    pub fn is_success(&self) -> bool {
        self.error_count == 0
    }
}

/// Most distinct error kinds a session end event lists.
pub const MAX_SESSION_ERROR_KINDS: usize = 16;

/// Cuts a name to [`MAX_NAME_LEN`] bytes; names within the cap are not copied.
pub(crate) fn bounded_name(name: Cow<'static, str>) -> Cow<'static, str> {
    if name.len() <= MAX_NAME_LEN {
        return name;
    }
    Cow::Owned(crate::tags::truncate_at_char_boundary(&name, MAX_NAME_LEN).to_owned())
}

/// An outcome as recorded: a failure's kind is cut like a name.
pub(crate) fn bounded_outcome(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Failure(kind) => Outcome::Failure(bounded_name(kind)),
        other => other,
    }
}

/// A cost as recorded: `NaN`, infinite and negative costs become `0.0`.
pub(crate) fn sane_cost(cost: f64) -> f64 {
    if cost.is_finite() && cost > 0.0 {
        cost
    } else {
        0.0
    }
}

/// A session id or agent name as an event holds it: cut to
/// [`MAX_NAME_LEN`] bytes, in one allocation; the empty name (no session)
/// is one shared value and costs none.
pub(crate) fn shared_name(name: &str) -> Arc<str> {
    if name.is_empty() {
        return empty_name();
    }
    Arc::from(crate::tags::truncate_at_char_boundary(name, MAX_NAME_LEN))
}

/// The empty session id and agent name of an event outside any session.
pub(crate) fn empty_name() -> Arc<str> {
    static EMPTY: OnceLock<Arc<str>> = OnceLock::new();
    Arc::clone(EMPTY.get_or_init(|| Arc::from("")))
}
