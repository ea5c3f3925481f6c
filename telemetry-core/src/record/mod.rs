//! The wire record: one event plus the fields every event carries.
//!
//! ```json
//! {"event":"tool","event_timestamp":1795620628495,"source":"<app>",
//!  "properties":{ ...event fields..., ...tags..., ...common fields..., "schema_version":1 }}
//! ```
//!
//! Bodies are `{"records":[...],"sent_at":<epoch ms>}`; the published
//! description of both is `schema/records.schema.json` (JSON Schema
//! 2020-12) at the repository's root.
//!
//! Serialising a [`Record`] with serde gives exactly this object. Common
//! fields come last, and a tag whose key is an event or common field is left
//! out, so that a tag can never override or duplicate them.

pub(crate) mod args;
pub(crate) mod calendar;
#[cfg(feature = "clap")]
pub(crate) mod clap_flags;
pub(crate) mod client_report;
pub(crate) mod declared_flags;
pub(crate) mod detect;
pub(crate) mod event;
pub(crate) mod known_names;
pub(crate) mod limits;
pub(crate) mod outcome;
pub(crate) mod random;
pub(crate) mod tags;

pub(crate) use crate::record::client_report::CLIENT_REPORT_KEYS;
use crate::record::event::{
    CommandEvent, Event, SessionEndEvent, SessionStartEvent, ToolEvent, ToolSummaryEvent,
};
use crate::record::limits::millis;

use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The fields every record of one client carries: computed once, shared.
#[derive(Debug)]
pub(crate) struct RecordContext {
    /// The app's name: the record's `source`.
    pub(crate) source: String,
    pub(crate) common: CommonFields,
    pub(crate) tags: Vec<(String, String)>,
}

/// The common properties, written after the event fields and the tags.
#[derive(Debug)]
pub(crate) struct CommonFields {
    pub(crate) user_uuid: String,
    pub(crate) version: String,
    pub(crate) os: &'static str,
    pub(crate) os_language: String,
    pub(crate) arch: &'static str,
    pub(crate) ci: bool,
    /// The CI provider's id (`github_actions`, ...), or empty.
    pub(crate) ci_provider: &'static str,
    /// The AI coding agent's id (`claude_code`, ...), or empty.
    pub(crate) ai_agent: &'static str,
    /// The process sampling rate, written as `sample_rate` when below 1
    /// (this process was sampled in; a backend weights its counts by it).
    pub(crate) sample_rate: Option<f64>,
    /// `user_uuid` is this process's own (a CI run under the anonymous CI
    /// policy): written as `"ephemeral_id": true`, left out otherwise.
    pub(crate) ephemeral_id: bool,
}

/// The version of the records' schema (`schema/records.schema.json` in the
/// repository), sent as `schema_version` in every record's properties.
pub const SCHEMA_VERSION: u32 = 1;

/// The property a sampled-in process adds to every record when its rate
/// is below 1. Like a common field, no tag can take its name.
pub(crate) const SAMPLE_RATE_KEY: &str = "sample_rate";

/// The property that marks a per-process id; a tag cannot take its name.
pub(crate) const EPHEMERAL_ID_KEY: &str = "ephemeral_id";

/// The common properties' names, in the order they are written.
pub(crate) const COMMON_KEYS: [&str; 10] = [
    "user_uuid",
    "version",
    "os",
    "os_language",
    "arch",
    "ci",
    "ci_provider",
    "ai_agent",
    "event_id",
    "schema_version",
];

/// A `command` event's property names.
pub(crate) const COMMAND_KEYS: &[&str] = &["action", "args", "is_success", "duration_ms", "error"];
/// The properties of the session an event belongs to (empty outside one).
const SESSION_FIELDS: [&str; 2] = ["session_id", "agent_name"];
/// The properties of token usage: tokens in and out, their total, the cost.
const USAGE_FIELDS: [&str; 4] = ["input_tokens", "output_tokens", "total_tokens", "cost"];

/// A `tool` event's property names.
pub(crate) const TOOL_KEYS: &[&str] = &keys::<7>(&[
    &["action", "tool_name"],
    &SESSION_FIELDS,
    &["duration_ms", "is_success", "error"],
]);
/// A `token` event's property names.
pub(crate) const TOKEN_KEYS: &[&str] =
    &keys::<8>(&[&["action"], &SESSION_FIELDS, &["model_name"], &USAGE_FIELDS]);
/// A `session` start event's property names.
pub(crate) const SESSION_START_KEYS: &[&str] = &keys::<3>(&[&["action"], &SESSION_FIELDS]);
/// A `session` end event's property names (the start's, then its totals).
pub(crate) const SESSION_KEYS: &[&str] = &keys::<12>(&[
    SESSION_START_KEYS,
    &["duration_ms", "tool_calls"],
    &USAGE_FIELDS,
    &["error_count", "is_success", "error"],
]);
/// A `tool_summary` event's property names.
pub(crate) const TOOL_SUMMARY_KEYS: &[&str] = &keys::<8>(&[
    &["tool_name"],
    &SESSION_FIELDS,
    &[
        "calls",
        "errors",
        "error_kinds",
        "duration_ms_total",
        "duration_ms_max",
    ],
]);

/// `parts` one after another, at compile time; `N` is their total length
/// (a wrong one does not compile).
const fn keys<const N: usize>(parts: &[&[&'static str]]) -> [&'static str; N] {
    let mut all = [""; N];
    let (mut n, mut part) = (0, 0);
    while part < parts.len() {
        let mut i = 0;
        while i < parts[part].len() {
            all[n] = parts[part][i];
            n += 1;
            i += 1;
        }
        part += 1;
    }
    assert!(n == N, "N is the parts' total length");
    all
}

/// One event as sent: the event, when it happened, and the shared fields.
///
/// [`MemorySink`](crate::MemorySink) hands these to tests;
/// `serde_json::to_value(&record)` gives the exact wire record.
#[derive(Debug, Clone)]
pub struct Record {
    event: Event,
    timestamp_ms: u64,
    event_id: u128,
    context: Arc<RecordContext>,
}

impl Record {
    pub(crate) fn new(event: Event, context: Arc<RecordContext>) -> Record {
        let timestamp_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, millis);
        Record {
            event,
            timestamp_ms,
            event_id: random::uuid_v4(),
            context,
        }
    }

    /// The typed event.
    #[must_use]
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// `event_timestamp`: when the record was made, in epoch milliseconds.
    #[must_use]
    pub fn timestamp_ms(&self) -> u64 {
        self.timestamp_ms
    }

    /// `event_id`: a random UUID, unique per event, so that a collector can
    /// drop a duplicate.
    #[must_use]
    pub fn event_id(&self) -> String {
        random::format_uuid(self.event_id)
    }

    /// `source`: the app's name.
    #[must_use]
    pub fn source(&self) -> &str {
        &self.context.source
    }

    /// The exact wire record as one line of JSON.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serialising plain strings, numbers and booleans cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The request body, `{"records":[r1,r2,...]}`, for records as the
/// recorder made them (inline delivery).
// Only the HTTP sink sends a body today.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn body(records: &[Record]) -> Result<Vec<u8>, serde_json::Error> {
    // Room for a typical record, so that the body is not regrown.
    envelope(records, 1024 * records.len(), |body, record| {
        serde_json::to_writer(body, record)
    })
}

/// The same body for records already serialised as wire JSON (the spool's
/// lines, handed over by background delivery).
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn batch_body(records: &[String]) -> Vec<u8> {
    let len = records.iter().map(|record| record.len() + 1).sum::<usize>();
    let written = envelope(records, len, |body, record| {
        body.extend_from_slice(record.as_bytes());
        Ok::<(), std::convert::Infallible>(())
    });
    match written {
        Ok(body) => body,
        Err(never) => match never {},
    }
}

/// The one place the body's shape is spelled: `{"records":[`, the records
/// written by `write` with commas between them, then `],"sent_at":<ms>}`,
/// the time the body was made (epoch milliseconds: the request leaves at
/// once), so that a backend can correct a client's clock skew.
fn envelope<T, E>(
    records: &[T],
    capacity: usize,
    mut write: impl FnMut(&mut Vec<u8>, &T) -> Result<(), E>,
) -> Result<Vec<u8>, E> {
    let mut body = Vec::with_capacity(capacity + 40);
    body.extend_from_slice(b"{\"records\":[");
    for (index, record) in records.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        write(&mut body, record)?;
    }
    body.extend_from_slice(b"],\"sent_at\":");
    body.extend_from_slice(now_ms().to_string().as_bytes());
    body.push(b'}');
    Ok(body)
}

/// Now, in epoch milliseconds (0 before 1970).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis)
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut record = serializer.serialize_struct("Record", 4)?;
        record.serialize_field("event", self.event.kind())?;
        record.serialize_field("event_timestamp", &self.timestamp_ms)?;
        record.serialize_field("source", &self.context.source)?;
        record.serialize_field("properties", &Properties(self))?;
        record.end()
    }
}

struct Properties<'a>(&'a Record);

impl Serialize for Properties<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let record = self.0;
        let mut map = serializer.serialize_map(None)?;
        let event_keys = write_event_fields(&record.event, &mut map)?;
        for (key, value) in &record.context.tags {
            let reserved = event_keys.contains(&key.as_str())
                || COMMON_KEYS.contains(&key.as_str())
                || key == SAMPLE_RATE_KEY
                || key == EPHEMERAL_ID_KEY;
            if !reserved {
                map.serialize_entry(key, value)?;
            }
        }
        let common = &record.context.common;
        map.serialize_entry("user_uuid", &common.user_uuid)?;
        map.serialize_entry("version", &common.version)?;
        map.serialize_entry("os", common.os)?;
        map.serialize_entry("os_language", &common.os_language)?;
        map.serialize_entry("arch", common.arch)?;
        map.serialize_entry("ci", &common.ci)?;
        map.serialize_entry("ci_provider", common.ci_provider)?;
        map.serialize_entry("ai_agent", common.ai_agent)?;
        if let Some(rate) = common.sample_rate {
            map.serialize_entry(SAMPLE_RATE_KEY, &rate)?;
        }
        if common.ephemeral_id {
            map.serialize_entry(EPHEMERAL_ID_KEY, &true)?;
        }
        map.serialize_entry("event_id", random::UuidText::new(record.event_id).as_str())?;
        map.serialize_entry("schema_version", &SCHEMA_VERSION)?;
        map.end()
    }
}

/// Writes the event's own properties; returns their keys.
fn write_event_fields<M: SerializeMap>(
    event: &Event,
    map: &mut M,
) -> Result<&'static [&'static str], M::Error> {
    match event {
        Event::Command(CommandEvent {
            action,
            args,
            duration_ms,
            outcome,
        }) => {
            map.serialize_entry("action", action)?;
            map.serialize_entry("args", args)?;
            map.serialize_entry("is_success", &outcome.is_success())?;
            map.serialize_entry("duration_ms", duration_ms)?;
            if let Some(kind) = outcome.error_kind() {
                map.serialize_entry("error", kind)?;
            }
            Ok(COMMAND_KEYS)
        }
        Event::Tool(ToolEvent {
            tool_name,
            session_id,
            agent_name,
            duration_ms,
            outcome,
        }) => {
            map.serialize_entry("action", "call")?;
            map.serialize_entry("tool_name", tool_name)?;
            write_session(map, session_id, agent_name)?;
            map.serialize_entry("duration_ms", duration_ms)?;
            map.serialize_entry("is_success", &outcome.is_success())?;
            if let Some(kind) = outcome.error_kind() {
                map.serialize_entry("error", kind)?;
            }
            Ok(TOOL_KEYS)
        }
        Event::Token(token) => {
            map.serialize_entry("action", "usage")?;
            write_session(map, &token.session_id, &token.agent_name)?;
            map.serialize_entry("model_name", &token.model_name)?;
            map.serialize_entry("input_tokens", &token.input_tokens)?;
            map.serialize_entry("output_tokens", &token.output_tokens)?;
            map.serialize_entry("total_tokens", &token.total_tokens())?;
            map.serialize_entry("cost", &token.cost)?;
            Ok(TOKEN_KEYS)
        }
        Event::SessionStart(SessionStartEvent {
            session_id,
            agent_name,
        }) => {
            map.serialize_entry("action", "start")?;
            write_session(map, session_id, agent_name)?;
            Ok(SESSION_START_KEYS)
        }
        Event::SessionEnd(end) => write_session_end(end, map),
        Event::ToolSummary(summary) => write_tool_summary(summary, map),
        Event::ClientReport(report) => {
            map.serialize_entry("dropped", &report.dropped)?;
            Ok(CLIENT_REPORT_KEYS)
        }
    }
}

/// Writes the session an event belongs to: its id and its agent (both
/// empty outside a session).
fn write_session<M: SerializeMap>(
    map: &mut M,
    session_id: &str,
    agent_name: &str,
) -> Result<(), M::Error> {
    map.serialize_entry("session_id", session_id)?;
    map.serialize_entry("agent_name", agent_name)
}

fn write_tool_summary<M: SerializeMap>(
    summary: &ToolSummaryEvent,
    map: &mut M,
) -> Result<&'static [&'static str], M::Error> {
    map.serialize_entry("tool_name", &summary.tool_name)?;
    write_session(map, &summary.session_id, &summary.agent_name)?;
    map.serialize_entry("calls", &summary.calls)?;
    map.serialize_entry("errors", &summary.errors)?;
    map.serialize_entry("error_kinds", &summary.error_kinds)?;
    map.serialize_entry("duration_ms_total", &summary.duration_ms_total)?;
    map.serialize_entry("duration_ms_max", &summary.duration_ms_max)?;
    Ok(TOOL_SUMMARY_KEYS)
}

fn write_session_end<M: SerializeMap>(
    end: &SessionEndEvent,
    map: &mut M,
) -> Result<&'static [&'static str], M::Error> {
    map.serialize_entry("action", "end")?;
    write_session(map, &end.session_id, &end.agent_name)?;
    map.serialize_entry("duration_ms", &end.duration_ms)?;
    map.serialize_entry("tool_calls", &end.tool_calls)?;
    map.serialize_entry("input_tokens", &end.input_tokens)?;
    map.serialize_entry("output_tokens", &end.output_tokens)?;
    map.serialize_entry("total_tokens", &end.total_tokens())?;
    map.serialize_entry("cost", &end.cost)?;
    map.serialize_entry("error_count", &end.error_count)?;
    map.serialize_entry("is_success", &end.is_success())?;
    map.serialize_entry("error", &end.errors)?;
    Ok(SESSION_KEYS)
}
