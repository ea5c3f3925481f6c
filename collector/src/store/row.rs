//! A wire record as a row: the typed columns the views read, and its id.

use crate::{day, hash};
use serde_json::{Map, Value};

/// What the store keeps of one record besides its body.
#[derive(Debug, Clone)]
pub struct Row {
    /// `properties.event_id`, or `sha256:` and the hash of the record's
    /// canonical JSON when it has none.
    pub event_id: String,
    /// `source`.
    pub app: String,
    /// `event`.
    pub event: String,
    /// `event_timestamp`, epoch ms.
    pub ts: i64,
    /// The UTC day of `ts`.
    pub day: i64,
    /// `user_uuid` (empty when absent).
    pub uid: String,
    /// `"ephemeral_id": true`: the id is no install.
    pub ephemeral: bool,
    /// `version`.
    pub version: String,
    /// `os`.
    pub os: String,
    /// `arch`.
    pub arch: String,
    /// `ci`.
    pub ci: Option<bool>,
    /// `ci_provider`.
    pub ci_provider: String,
    /// `ai_agent`.
    pub ai_agent: String,
    /// The command (`action`), tool (`tool_name`) or model (`model_name`).
    pub name: String,
    /// `action`.
    pub action: String,
    /// `is_success`.
    pub ok: Option<bool>,
    /// `duration_ms`.
    pub duration_ms: Option<i64>,
    /// `error` when it is one kind (a string).
    pub error: Option<String>,
    /// How many records this one stands for: 1 / `sample_rate` when that is
    /// in (0, 1), else 1.
    pub weight: f64,
}

impl Row {
    /// The row of a usable wire record (see `ingest::is_usable`).
    pub fn of(record: &Value) -> Row {
        let empty = Map::new();
        let properties = record
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let text = |key: &str| {
            properties
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let event = record
            .get("event")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let ts = match record.get("event_timestamp") {
            Some(stamp) => stamp
                .as_i64()
                .or_else(|| stamp.as_u64().map(|_| i64::MAX))
                .unwrap_or(0),
            None => 0,
        };
        let name = match event.as_str() {
            "command" => text("action"),
            "tool" | "tool_summary" => text("tool_name"),
            "token" => text("model_name"),
            _ => String::new(),
        };
        let sample_rate = properties
            .get("sample_rate")
            .or_else(|| record.get("sample_rate"))
            .and_then(Value::as_f64);
        let weight = match sample_rate {
            Some(rate) if rate > 0.0 && rate < 1.0 => 1.0 / rate,
            _ => 1.0,
        };
        let ephemeral = properties
            .get("ephemeral_id")
            .or_else(|| record.get("ephemeral_id"))
            .and_then(Value::as_bool)
            == Some(true);
        Row {
            event_id: event_id(record, properties),
            app: record
                .get("source")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            ts,
            day: day::of_millis(ts),
            uid: text("user_uuid"),
            ephemeral,
            version: text("version"),
            os: text("os"),
            arch: text("arch"),
            ci: properties.get("ci").and_then(Value::as_bool),
            ci_provider: text("ci_provider"),
            ai_agent: text("ai_agent"),
            name,
            action: text("action"),
            ok: properties.get("is_success").and_then(Value::as_bool),
            duration_ms: properties.get("duration_ms").and_then(Value::as_i64),
            error: properties
                .get("error")
                .and_then(Value::as_str)
                .map(str::to_owned),
            weight,
            event,
        }
    }

    /// Whether this row counts as an install: an id that is not ephemeral.
    pub fn is_install(&self) -> bool {
        !self.ephemeral && !self.uid.is_empty()
    }
}

fn event_id(record: &Value, properties: &Map<String, Value>) -> String {
    match properties.get("event_id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => format!("sha256:{}", hash::sha256_hex(canonical(record).as_bytes())),
    }
}

/// The record's canonical JSON: object keys sorted at every level, no
/// whitespace (the same record always hashes alike, whatever its key order).
pub fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let entries: Vec<String> = keys
                .into_iter()
                .map(|key| format!("{}:{}", Value::String(key.clone()), canonical(&map[key])))
                .collect();
            format!("{{{}}}", entries.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_record_without_an_id_gets_the_hash_of_its_canonical_json() {
        let one: Value = serde_json::from_str(
            r#"{"event":"tool","event_timestamp":1,"source":"a","properties":{"b":1,"a":[{"y":1,"x":2}]}}"#,
        )
        .unwrap();
        let other: Value = serde_json::from_str(
            r#"{"properties":{"a":[{"x":2,"y":1}],"b":1},"source":"a","event_timestamp":1,"event":"tool"}"#,
        )
        .unwrap();
        assert_eq!(Row::of(&one).event_id, Row::of(&other).event_id);
        assert!(Row::of(&one).event_id.starts_with("sha256:"));
        let changed = json!({"event":"tool","event_timestamp":2,"source":"a","properties":{"b":1,"a":[{"y":1,"x":2}]}});
        assert_ne!(Row::of(&one).event_id, Row::of(&changed).event_id);
    }

    #[test]
    fn sample_rate_weights_and_ephemeral_ids_are_no_installs() {
        let row = Row::of(
            &json!({"event":"tool","event_timestamp":86_400_001,"source":"a",
            "properties":{"sample_rate":0.25,"ephemeral_id":true,"user_uuid":"u","event_id":"e"}}),
        );
        assert_eq!((row.weight, row.day, row.is_install()), (4.0, 1, false));
        assert_eq!(row.event_id, "e");
        let row = Row::of(&json!({"event":"tool","event_timestamp":1,"source":"a",
            "properties":{"sample_rate":1.5,"user_uuid":"u"}}));
        assert_eq!((row.weight, row.is_install()), (1.0, true));
    }
}
