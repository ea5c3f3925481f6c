//! OTLP/HTTP JSON logs (`{"resourceLogs":[…]}`) read back into wire records:
//! the toolkit's mapping (docs/otlp.md, `telemetry_core::otlp`) run
//! backwards, so that a record sent as OTLP stores, and exports, as the wire
//! record it encodes.
//!
//! - Resource: `service.name` → `source`; `service.version`, `os.type`
//!   (`darwin` → `macos`), `host.arch` (`amd64` → `x86_64`, `arm64` →
//!   `aarch64`, …), `telemetry.anonymous_id` → `user_uuid`,
//!   `telemetry.os_language`, `telemetry.ci`, `telemetry.ci_provider`,
//!   `telemetry.ai_agent` → the common properties; `telemetry.sdk.*` dropped;
//!   any other resource attribute kept as a property of its own name.
//! - Log record: `eventName` → `event`, `timeUnixNano` → `event_timestamp`
//!   (ms), `log.record.uid` → `event_id`, the GenAI names back to the
//!   toolkit's, `error.type` / `error` → `error`; every other attribute a
//!   property of its own name (`intValue` back to an integer).
//! - `session_id` and `agent_name`, left out by the mapping when empty, are
//!   restored as `""` on the events that carry them (`tool`, `token`,
//!   `session`, `tool_summary`).
//! - Severity, scope and schema URLs carry nothing the wire record lacks.

use super::{BodyError, Parsed};
use serde_json::{Map, Number, Value};

/// The records of an OTLP/HTTP JSON logs body; a log record without an
/// `eventName`, a `timeUnixNano` or a resource `service.name` is rejected.
pub fn parse(bytes: &[u8]) -> Result<Parsed, BodyError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| BodyError::Malformed(format!("the body is not JSON: {error}")))?;
    let Some(resource_logs) = value.get("resourceLogs").and_then(Value::as_array) else {
        return Err(BodyError::Malformed(
            "the body has no \"resourceLogs\" array".to_owned(),
        ));
    };
    let mut parsed = Parsed::default();
    for resource_log in resource_logs {
        let resource = resource_properties(resource_log);
        let scope_logs = resource_log.get("scopeLogs").and_then(Value::as_array);
        for scope_log in scope_logs.into_iter().flatten() {
            let logs = scope_log.get("logRecords").and_then(Value::as_array);
            for log in logs.into_iter().flatten() {
                match wire_record(&resource, log) {
                    Some(record) if super::is_usable(&record) => parsed.records.push(record),
                    _ => parsed.rejected += 1,
                }
            }
        }
    }
    Ok(parsed)
}

/// The source and the common properties a resource encodes.
struct Resource {
    source: Option<String>,
    properties: Map<String, Value>,
}

fn resource_properties(resource_log: &Value) -> Resource {
    let mut resource = Resource {
        source: None,
        properties: Map::new(),
    };
    let attributes = resource_log
        .get("resource")
        .and_then(|resource| resource.get("attributes"))
        .and_then(Value::as_array);
    for (key, value) in attributes.into_iter().flatten().filter_map(key_value) {
        let text = || value.as_str().map(str::to_owned);
        let property = match key {
            "service.name" => {
                resource.source = text();
                continue;
            }
            "service.version" => "version",
            "os.type" => {
                if let Some(os) = value.as_str() {
                    resource
                        .properties
                        .insert("os".into(), Value::String(os_from_type(os).to_owned()));
                }
                continue;
            }
            "host.arch" => {
                if let Some(arch) = value.as_str() {
                    resource.properties.insert(
                        "arch".into(),
                        Value::String(arch_from_host(arch).to_owned()),
                    );
                }
                continue;
            }
            "telemetry.anonymous_id" => "user_uuid",
            "telemetry.os_language" => "os_language",
            "telemetry.ci" => "ci",
            "telemetry.ci_provider" => "ci_provider",
            "telemetry.ai_agent" => "ai_agent",
            sdk if sdk.starts_with("telemetry.sdk.") => continue,
            other => other,
        };
        resource.properties.insert(property.to_owned(), value);
    }
    resource
}

fn wire_record(resource: &Resource, log: &Value) -> Option<Value> {
    let event = log.get("eventName")?.as_str()?.to_owned();
    let nanos = match log.get("timeUnixNano")? {
        Value::String(text) => text.parse::<u128>().ok()?,
        Value::Number(number) => u128::from(number.as_u64()?),
        _ => return None,
    };
    let millis = u64::try_from(nanos / 1_000_000).ok()?;
    let mut properties = resource.properties.clone();
    let attributes = log.get("attributes").and_then(Value::as_array);
    for (key, value) in attributes.into_iter().flatten().filter_map(key_value) {
        let property = match key {
            "gen_ai.tool.name" => "tool_name",
            "gen_ai.request.model" => "model_name",
            "gen_ai.conversation.id" => "session_id",
            "gen_ai.agent.name" => "agent_name",
            "gen_ai.usage.input_tokens" => "input_tokens",
            "gen_ai.usage.output_tokens" => "output_tokens",
            "error.type" => "error",
            "log.record.uid" => "event_id",
            other => other,
        };
        properties.insert(property.to_owned(), value);
    }
    if matches!(
        event.as_str(),
        "tool" | "token" | "session" | "tool_summary"
    ) {
        for key in ["session_id", "agent_name"] {
            properties
                .entry(key)
                .or_insert_with(|| Value::String(String::new()));
        }
    }
    let mut record = Map::new();
    record.insert("event".into(), Value::String(event));
    record.insert("event_timestamp".into(), Value::Number(millis.into()));
    record.insert("source".into(), Value::String(resource.source.clone()?));
    record.insert("properties".into(), Value::Object(properties));
    Some(Value::Object(record))
}

/// An attribute's key and its value as plain JSON.
/// The items of an `arrayValue` or `kvlistValue` (its `values`), or none.
fn values(list: &Value) -> impl Iterator<Item = &Value> {
    list.get("values")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn key_value(attribute: &Value) -> Option<(&str, Value)> {
    let key = attribute.get("key")?.as_str()?;
    let value = any_value(attribute.get("value")?)?;
    Some((key, value))
}

/// An OTLP `AnyValue` as plain JSON (`intValue`, a decimal string in
/// OTLP/HTTP JSON, back to an integer).
fn any_value(value: &Value) -> Option<Value> {
    let (kind, inner) = value.as_object()?.iter().next()?;
    Some(match kind.as_str() {
        "stringValue" => Value::String(inner.as_str()?.to_owned()),
        "boolValue" => Value::Bool(inner.as_bool()?),
        "intValue" => match inner {
            Value::String(text) => Value::Number(text.parse::<i64>().ok()?.into()),
            Value::Number(number) if number.is_i64() || number.is_u64() => inner.clone(),
            _ => return None,
        },
        "doubleValue" => match inner {
            Value::Number(number) => Value::Number(Number::from_f64(number.as_f64()?)?),
            Value::String(text) => Value::Number(Number::from_f64(text.parse().ok()?)?),
            _ => return None,
        },
        "arrayValue" => Value::Array(values(inner).filter_map(any_value).collect()),
        "kvlistValue" => Value::Object(
            values(inner)
                .filter_map(|pair| key_value(pair).map(|(key, value)| (key.to_owned(), value)))
                .collect(),
        ),
        _ => return None,
    })
}

/// `os.type` back to the toolkit's `os` (`std::env::consts::OS`).
fn os_from_type(os: &str) -> &str {
    match os {
        "darwin" => "macos",
        other => other,
    }
}

/// `host.arch` back to the toolkit's `arch` (`std::env::consts::ARCH`).
fn arch_from_host(arch: &str) -> &str {
    match arch {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        "arm32" => "arm",
        "ppc64" => "powerpc64",
        "ppc32" => "powerpc",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use serde_json::{json, Value};

    fn round_trip(wire: &Value) -> Value {
        let body = telemetry_core::otlp::export_logs_request([wire]);
        let parsed = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.rejected, 0);
        assert_eq!(parsed.records.len(), 1);
        parsed.records[0].clone()
    }

    fn common(extra: Value) -> Value {
        let mut properties = json!({
            "user_uuid": "6f1c0c52-4b8e-4d0e-9a51-2f4b8f3c2a10", "version": "1.2.3",
            "os": "macos", "os_language": "en-US", "arch": "aarch64", "ci": false,
            "event_id": "a91c86c9-4ff9-4644-8651-cc46748bc95f",
        });
        for (key, value) in extra.as_object().unwrap() {
            properties[key] = value.clone();
        }
        properties
    }

    #[test]
    fn each_event_kind_reads_back_as_the_wire_record() {
        let records = [
            json!({"event":"command","event_timestamp":1_795_620_628_495_u64,"source":"agent",
                "properties": common(json!({"action":"run","args":["--model"],"is_success":false,
                "duration_ms":12,"error":"io","ci_provider":"github_actions","team":"x"}))}),
            json!({"event":"tool","event_timestamp":1_795_620_628_496_u64,"source":"agent",
                "properties": common(json!({"action":"call","tool_name":"search","session_id":"",
                "agent_name":"","duration_ms":3,"is_success":true}))}),
            json!({"event":"token","event_timestamp":1_795_620_628_497_u64,"source":"agent",
                "properties": common(json!({"action":"usage","session_id":"s1","agent_name":"root",
                "model_name":"gpt-4o-mini","input_tokens":1200,"output_tokens":150,
                "total_tokens":1350,"cost":0.00027}))}),
            json!({"event":"session","event_timestamp":1_795_620_628_498_u64,"source":"agent",
                "properties": common(json!({"action":"end","session_id":"s1","agent_name":"root",
                "duration_ms":40,"tool_calls":3,"input_tokens":1,"output_tokens":2,"total_tokens":3,
                "cost":0.5,"error_count":1,"is_success":false,"error":["io","timeout"]}))}),
            json!({"event":"tool_summary","event_timestamp":1_795_620_628_499_u64,"source":"agent",
                "properties": common(json!({"tool_name":"read","session_id":"s1","agent_name":"",
                "calls":500,"errors":2,"error_kinds":{"io":2},"duration_ms_total":900,
                "duration_ms_max":30,"sample_rate":0.5,"ephemeral_id":true}))}),
            json!({"event":"client_report","event_timestamp":1_795_620_628_500_u64,"source":"agent",
                "properties": common(json!({"dropped":{"queue_full":3}}))}),
        ];
        for wire in &records {
            assert_eq!(&round_trip(wire), wire);
        }
    }

    #[test]
    fn bodies_without_resource_logs_are_malformed_and_bad_records_counted() {
        assert!(parse(b"{}").is_err());
        assert!(parse(b"[").is_err());
        let body = json!({"resourceLogs":[{"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"a"}}]},
            "scopeLogs":[{"logRecords":[
                {"eventName":"tool","timeUnixNano":"5000000"},
                {"timeUnixNano":"5000000"},
                {"eventName":"tool","timeUnixNano":"soon"}]}]}]});
        let parsed = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!((parsed.records.len(), parsed.rejected), (1, 2));
        assert_eq!(parsed.records[0]["event_timestamp"], 5);
    }
}
