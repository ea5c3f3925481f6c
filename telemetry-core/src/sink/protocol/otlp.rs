//! The OTLP mapping: one wire record (the JSON object the default sink
//! sends) to one OpenTelemetry log record, and a batch of them to the JSON
//! body of an OTLP/HTTP `ExportLogsServiceRequest`.
//!
//! It works from the wire JSON, not from the typed [`Event`](crate::Event),
//! on purpose: a record kept as a JSON line (a log, a spool) exports exactly
//! as the same record sent live. Attribute names follow the OpenTelemetry
//! semantic conventions [`SEMCONV_VERSION`]; where they have no name, the
//! cagent property name is kept.
//!
//! | wire record | OTLP | type |
//! |---|---|---|
//! | `source` | resource `service.name` | string |
//! | `properties.version` | resource `service.version` | string |
//! | `properties.os` | resource `os.type` (`macos` → `darwin`) | string |
//! | `properties.arch` | resource `host.arch` (`x86_64` → `amd64`, `aarch64` → `arm64`, ...) | string |
//! | `properties.user_uuid` | resource `telemetry.anonymous_id` (never `user.id`: it is no person) | string |
//! | `properties.os_language` | resource `telemetry.os_language` | string |
//! | `properties.ci` | resource `telemetry.ci` | bool |
//! | `properties.ci_provider` | resource `telemetry.ci_provider` | string |
//! | `properties.ai_agent` | resource `telemetry.ai_agent` | string |
//! | (this crate) | resource `telemetry.sdk.name` = `telemetry-core`, `telemetry.sdk.language` = `rust`, `telemetry.sdk.version` | string |
//! | `event` | `eventName` | |
//! | `event_timestamp` (ms) | `timeUnixNano` (ns, a decimal string) | |
//! | `properties.is_success` = `false` | `severityNumber` 13, `severityText` `WARN`; else 9, `INFO` | |
//! | `properties.event_id` | attribute `log.record.uid` | string |
//! | `tool_name` | `gen_ai.tool.name` | string |
//! | `model_name` | `gen_ai.request.model` | string |
//! | `input_tokens`, `output_tokens` | `gen_ai.usage.input_tokens`, `gen_ai.usage.output_tokens` | int |
//! | `agent_name` | `gen_ai.agent.name` (left out when empty) | string |
//! | `session_id` | `gen_ai.conversation.id` (left out when empty) | string |
//! | `error` (command, tool: one kind) | `error.type` | string |
//! | `error` (session end: the list of kinds) | `error` | array of string |
//! | `action`, `is_success` | same name | string, bool |
//! | `duration_ms`, `tool_calls`, `total_tokens`, `error_count` | same name | int |
//! | `cost` | `cost` | double |
//! | `args` | `args` | array of string |
//! | `calls`, `errors`, `duration_ms_total`, `duration_ms_max` (`tool_summary`) | same name | int |
//! | `error_kinds` (`tool_summary`), `dropped` (`client_report`) | same name | key-value list of int |
//! | `sample_rate` (a sampled process) | `sample_rate` | double |
//! | a tag (`TELEMETRY_TAGS`) | an attribute of the tag's key, unless that key is a name above | string |
//!
//! The JSON is the OTLP/HTTP JSON encoding: lowerCamelCase field names,
//! 64-bit integers (`timeUnixNano`, `intValue`) as decimal strings, enums
//! (`severityNumber`) as numbers. An integer above `i64::MAX` (a saturated
//! token total) is sent as `i64::MAX`.
//!
//! ```
//! use serde_json::json;
//! let wire = json!({"event":"tool","event_timestamp":1700000000000_u64,"source":"my-agent",
//!     "properties":{"action":"call","tool_name":"read_file","session_id":"s-1",
//!     "agent_name":"root","duration_ms":12,"is_success":true,
//!     "user_uuid":"u","version":"1.2.0","os":"linux","os_language":"","arch":"x86_64",
//!     "ci":false,"event_id":"e-1"}});
//! let body = telemetry_core::otlp::export_logs_request([&wire]);
//! let log = &body["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
//! assert_eq!(log["timeUnixNano"], "1700000000000000000");
//! assert_eq!(log["eventName"], "tool");
//! assert_eq!(log["attributes"][1],
//!     json!({"key":"gen_ai.tool.name","value":{"stringValue":"read_file"}}));
//! ```

// The common properties (`COMMON_KEYS`) go to the resource (and `event_id`
// to `log.record.uid`), never to a log record attribute of their own name.
use crate::record::{
    CLIENT_REPORT_KEYS, COMMAND_KEYS, COMMON_KEYS, SAMPLE_RATE_KEY, SESSION_KEYS, TOKEN_KEYS,
    TOOL_KEYS, TOOL_SUMMARY_KEYS,
};
use serde_json::{json, Map, Value};

/// The version of the OpenTelemetry semantic conventions the names follow.
pub const SEMCONV_VERSION: &str = "1.37.0";

/// The schema URL of [`SEMCONV_VERSION`], sent as `schemaUrl`.
pub const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.37.0";

/// The instrumentation scope's name on every log record.
pub const SCOPE_NAME: &str = "telemetry-core";

/// `severityNumber` of a record: INFO, or WARN for a failed outcome.
pub const SEVERITY_INFO: u8 = 9;
/// `severityNumber` of a record whose `is_success` is `false`.
pub const SEVERITY_WARN: u8 = 13;

/// How an event property becomes an attribute.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    /// A name or id: left out when empty.
    NonEmptyStr,
    Int,
    Double,
    Bool,
    StrArray,
    /// An object of counts (`error_kinds`, `dropped`): a key-value list.
    IntMap,
}

/// The event properties of every kind: wire name, attribute name, type.
/// `error` is a string on commands and tools, a list on session ends.
const EVENT_FIELDS: [(&str, &str, Kind); 20] = [
    ("action", "action", Kind::Str),
    ("args", "args", Kind::StrArray),
    ("tool_name", "gen_ai.tool.name", Kind::Str),
    ("model_name", "gen_ai.request.model", Kind::Str),
    ("session_id", "gen_ai.conversation.id", Kind::NonEmptyStr),
    ("agent_name", "gen_ai.agent.name", Kind::NonEmptyStr),
    ("input_tokens", "gen_ai.usage.input_tokens", Kind::Int),
    ("output_tokens", "gen_ai.usage.output_tokens", Kind::Int),
    ("total_tokens", "total_tokens", Kind::Int),
    ("duration_ms", "duration_ms", Kind::Int),
    ("tool_calls", "tool_calls", Kind::Int),
    ("error_count", "error_count", Kind::Int),
    ("cost", "cost", Kind::Double),
    ("is_success", "is_success", Kind::Bool),
    ("calls", "calls", Kind::Int),
    ("errors", "errors", Kind::Int),
    ("error_kinds", "error_kinds", Kind::IntMap),
    ("duration_ms_total", "duration_ms_total", Kind::Int),
    ("duration_ms_max", "duration_ms_max", Kind::Int),
    ("dropped", "dropped", Kind::IntMap),
];

/// Every event property: an event of a kind this mapping does not know
/// takes them all ([`EVENT_FIELDS`] and `error`).
const ALL_FIELDS: [&str; EVENT_FIELDS.len() + 1] = {
    let mut all = ["error"; EVENT_FIELDS.len() + 1];
    let mut n = 0;
    while n < EVENT_FIELDS.len() {
        all[n] = EVENT_FIELDS[n].0;
        n += 1;
    }
    all
};

/// Attribute names a tag can never take besides those of [`EVENT_FIELDS`]:
/// the error's, the record id's, the resource's, the sampling rate's.
const RESERVED: [&str; 13] = [
    "error",
    "error.type",
    "log.record.uid",
    "service.name",
    "service.version",
    "os.type",
    "host.arch",
    "telemetry.anonymous_id",
    "telemetry.os_language",
    "telemetry.ci",
    "telemetry.ci_provider",
    "telemetry.ai_agent",
    "sample_rate",
];

/// Whether a tag named `key` would take an attribute name this mapping
/// gives, on the log record or the resource.
fn is_reserved(key: &str) -> bool {
    RESERVED.contains(&key) || EVENT_FIELDS.iter().any(|&(_, name, _)| name == key)
}
/// The body of an OTLP/HTTP `ExportLogsServiceRequest` for these wire
/// records, in their order: one `resourceLogs` entry per distinct resource
/// (normally one), each with one `scopeLogs` entry. A value that is not a
/// wire record (not an object with a string `event`) is left out.
pub fn export_logs_request<'a>(records: impl IntoIterator<Item = &'a Value>) -> Value {
    let mut groups: Vec<(Value, Vec<Value>)> = Vec::new();
    for wire in records {
        let (Some(resource), Some(log)) = (resource(wire), log_record(wire)) else {
            continue;
        };
        match groups.iter_mut().find(|(known, _)| *known == resource) {
            Some((_, logs)) => logs.push(log),
            None => groups.push((resource, vec![log])),
        }
    }
    let resource_logs: Vec<Value> = groups
        .into_iter()
        .map(|(resource, logs)| {
            json!({
                "resource": resource,
                "scopeLogs": [{
                    "scope": {"name": SCOPE_NAME, "version": env!("CARGO_PKG_VERSION")},
                    "logRecords": logs,
                    "schemaUrl": SCHEMA_URL,
                }],
                "schemaUrl": SCHEMA_URL,
            })
        })
        .collect();
    json!({ "resourceLogs": resource_logs })
}

/// The OTLP `Resource` of a wire record: who sent it (see the module's
/// table). `None` when `wire` is not a wire record.
pub fn resource(wire: &Value) -> Option<Value> {
    let record = wire.as_object()?;
    record.get("event")?.as_str()?;
    let empty = Map::new();
    let props = record
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let text = |key: &str| props.get(key).and_then(Value::as_str).unwrap_or_default();
    let mut attributes = vec![
        string_attribute(
            "service.name",
            record
                .get("source")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        ),
        string_attribute("service.version", text("version")),
        string_attribute("os.type", os_type(text("os"))),
        string_attribute("host.arch", host_arch(text("arch"))),
        string_attribute("telemetry.anonymous_id", text("user_uuid")),
        string_attribute("telemetry.os_language", text("os_language")),
    ];
    if let Some(ci) = props.get("ci").and_then(Value::as_bool) {
        attributes.push(attribute("telemetry.ci", json!({ "boolValue": ci })));
    }
    for (key, name) in [
        ("ci_provider", "telemetry.ci_provider"),
        ("ai_agent", "telemetry.ai_agent"),
    ] {
        if let Some(value) = props.get(key).and_then(Value::as_str) {
            attributes.push(string_attribute(name, value));
        }
    }
    attributes.extend([
        string_attribute("telemetry.sdk.name", SCOPE_NAME),
        string_attribute("telemetry.sdk.language", "rust"),
        string_attribute("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
    ]);
    Some(json!({ "attributes": attributes }))
}

/// The OTLP `LogRecord` of a wire record (see the module's table). `None`
/// when `wire` is not a wire record.
pub fn log_record(wire: &Value) -> Option<Value> {
    let record = wire.as_object()?;
    let event = record.get("event")?.as_str()?;
    let empty = Map::new();
    let props = record
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let millis = record
        .get("event_timestamp")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let failed = props.get("is_success").and_then(Value::as_bool) == Some(false);
    let (severity_number, severity_text) = if failed {
        (SEVERITY_WARN, "WARN")
    } else {
        (SEVERITY_INFO, "INFO")
    };

    // The event's own attributes in one fixed order, then the error, then
    // the tags, whatever the order of the wire object's keys.
    let mut attributes = Vec::with_capacity(props.len());
    let fields = fields_of(event);
    for &(wire_name, name, kind) in &EVENT_FIELDS {
        if !fields.contains(&wire_name) {
            continue;
        }
        if let Some(value) = props
            .get(wire_name)
            .and_then(|value| typed_value(value, kind))
        {
            attributes.push(attribute(name, value));
        }
    }
    match props.get("error").filter(|_| fields.contains(&"error")) {
        Some(Value::String(kind)) => attributes.push(string_attribute("error.type", kind)),
        Some(list @ Value::Array(_)) => {
            if let Some(list) = any_value(list) {
                attributes.push(attribute("error", list));
            }
        }
        _ => {}
    }
    if let Some(rate) = props.get(SAMPLE_RATE_KEY).and_then(Value::as_f64) {
        attributes.push(attribute(SAMPLE_RATE_KEY, json!({ "doubleValue": rate })));
    }
    for (key, value) in props {
        let key = key.as_str();
        let taken = COMMON_KEYS.contains(&key) || is_reserved(key) || fields.contains(&key);
        if !taken {
            if let Some(value) = any_value(value) {
                attributes.push(attribute(key, value));
            }
        }
    }
    if let Some(id) = props.get("event_id").and_then(Value::as_str) {
        attributes.push(string_attribute("log.record.uid", id));
    }

    Some(json!({
        "timeUnixNano": millis.saturating_mul(1_000_000).to_string(),
        "severityNumber": severity_number,
        "severityText": severity_text,
        "eventName": event,
        "attributes": attributes,
    }))
}

/// The wire properties of an event kind (`record/mod.rs`); the rest are
/// tags and common fields. An unknown kind takes every known field.
fn fields_of(event: &str) -> &'static [&'static str] {
    match event {
        "command" => COMMAND_KEYS,
        "tool" => TOOL_KEYS,
        "token" => TOKEN_KEYS,
        "session" => SESSION_KEYS,
        "tool_summary" => TOOL_SUMMARY_KEYS,
        "client_report" => CLIENT_REPORT_KEYS,
        _ => &ALL_FIELDS,
    }
}

/// `os.type` as the conventions spell it; an OS they do not list is kept.
fn os_type(os: &str) -> &str {
    match os {
        "macos" | "ios" => "darwin",
        "solaris" | "illumos" => "solaris",
        other => other,
    }
}

/// `host.arch` as the conventions spell it; an arch they do not list is kept.
fn host_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "x86",
        "arm" => "arm32",
        "powerpc64" => "ppc64",
        "powerpc" => "ppc32",
        other => other,
    }
}

fn attribute(key: &str, value: Value) -> Value {
    let mut pair = Map::new();
    pair.insert("key".to_owned(), Value::String(key.to_owned()));
    pair.insert("value".to_owned(), value);
    Value::Object(pair)
}

fn string_attribute(key: &str, value: &str) -> Value {
    attribute(key, json!({ "stringValue": value }))
}

/// An OTLP `AnyValue` of the declared type; `None` when the wire value does
/// not have it (or is an empty name).
fn typed_value(value: &Value, kind: Kind) -> Option<Value> {
    match kind {
        Kind::Str => value.as_str().map(|text| json!({ "stringValue": text })),
        Kind::NonEmptyStr => value
            .as_str()
            .filter(|text| !text.is_empty())
            .map(|text| json!({ "stringValue": text })),
        Kind::Int => int_value(value),
        Kind::Double => value
            .as_f64()
            .map(|number| json!({ "doubleValue": number })),
        Kind::Bool => value.as_bool().map(|flag| json!({ "boolValue": flag })),
        Kind::StrArray => value.as_array().map(|items| {
            let values: Vec<Value> = items
                .iter()
                .filter_map(Value::as_str)
                .map(|text| json!({ "stringValue": text }))
                .collect();
            json!({ "arrayValue": { "values": values } })
        }),
        Kind::IntMap => value.as_object().map(|counts| {
            let values: Vec<Value> = counts
                .iter()
                .filter_map(|(key, count)| int_value(count).map(|count| attribute(key, count)))
                .collect();
            json!({ "kvlistValue": { "values": values } })
        }),
    }
}

/// `intValue` (an int64, written as a decimal string); a larger count is
/// sent as `i64::MAX`.
fn int_value(value: &Value) -> Option<Value> {
    let number = value
        .as_i64()
        .or_else(|| value.as_u64().map(|_| i64::MAX))?;
    Some(json!({ "intValue": number.to_string() }))
}

/// Any JSON value as an OTLP `AnyValue`, by its own type; `None` for null.
fn any_value(value: &Value) -> Option<Value> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(flag) => json!({ "boolValue": flag }),
        Value::Number(number) if number.is_f64() => json!({ "doubleValue": number }),
        Value::Number(_) => int_value(value)?,
        Value::String(text) => json!({ "stringValue": text }),
        Value::Array(items) => {
            let values: Vec<Value> = items.iter().filter_map(any_value).collect();
            json!({ "arrayValue": { "values": values } })
        }
        Value::Object(entries) => {
            let values: Vec<Value> = entries
                .iter()
                .filter_map(|(key, item)| any_value(item).map(|item| attribute(key, item)))
                .collect();
            json!({ "kvlistValue": { "values": values } })
        }
    })
}

#[cfg(test)]
#[path = "otlp_tests.rs"]
mod tests;
