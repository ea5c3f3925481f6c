//! The kinds of event, as typed values.
//!
//! Each struct holds exactly the fields its wire record carries under
//! `properties` (see [`Record`](crate::Record) for the whole record). They
//! are `#[non_exhaustive]`: a later version may add fields and kinds, so
//! match them with a wildcard arm and read their fields by name.

pub use crate::record::client_report::ClientReportEvent;
use crate::Outcome;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One telemetry event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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
    /// Calls of one tool past the roll-up threshold, folded per session
    /// (`"event":"tool_summary"`; see
    /// [`tool_rollup`](crate::TelemetryBuilder::tool_rollup)).
    ToolSummary(ToolSummaryEvent),
    /// Records this toolkit dropped before they could be sent
    /// (`"event":"client_report"`).
    ClientReport(ClientReportEvent),
}

impl Event {
    /// The record's `event` field: `command`, `tool`, `token`, `session`,
    /// `tool_summary` or `client_report`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Command(_) => "command",
            Event::Tool(_) => "tool",
            Event::Token(_) => "token",
            Event::SessionStart(_) | Event::SessionEnd(_) => "session",
            Event::ToolSummary(_) => "tool_summary",
            Event::ClientReport(_) => "client_report",
        }
    }
}

/// A command ran: `action` is the command's name, `args` its flag names.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
    #[must_use]
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

/// A session started.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionStartEvent {
    /// The session's id, a random UUID.
    pub session_id: Arc<str>,
    /// The agent that runs the session.
    pub agent_name: Arc<str>,
}

/// A session ended, with its totals.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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
    /// [`MAX_SESSION_ERROR_KINDS`](crate::MAX_SESSION_ERROR_KINDS)).
    pub errors: Vec<Cow<'static, str>>,
}

impl SessionEndEvent {
    /// `input_tokens + output_tokens`, saturating at `u64::MAX`.
    #[must_use]
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }

    /// A session succeeded when it saw no error.
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.error_count == 0
    }
}

/// Calls of one tool in one session past the roll-up threshold, folded
/// into one record: sent when the session ends, or at a flush point while
/// it is still open (a later summary then carries the calls made after).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ToolSummaryEvent {
    /// The tool's name.
    pub tool_name: Cow<'static, str>,
    /// The session's id.
    pub session_id: Arc<str>,
    /// The session's agent.
    pub agent_name: Arc<str>,
    /// How many calls this record stands for.
    pub calls: u64,
    /// How many of them failed (failure, panic or cancellation).
    pub errors: u64,
    /// Failed calls by error kind; the counts add up to `errors` (kinds
    /// past [`MAX_SESSION_ERROR_KINDS`](crate::MAX_SESSION_ERROR_KINDS)
    /// are counted under `other`).
    pub error_kinds: BTreeMap<String, u64>,
    /// The calls' summed wall time, in milliseconds (each call's rounded
    /// down, as its own record would carry it).
    pub duration_ms_total: u64,
    /// The longest call, in milliseconds.
    pub duration_ms_max: u64,
}
