//! Checking a body against the wire format: `{"records":[RECORD, ...]}`.

use serde_json::Value;

/// Parses and checks a request body. Each record must be an object with a
/// string `event`, a non-negative integer `event_timestamp`, a string
/// `source` and an object `properties`. Returns the records, or the reason
/// the body is not the wire format.
pub fn check_body(body: &[u8]) -> Result<Vec<Value>, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|error| format!("the body is not JSON: {error}"))?;
    let records = value
        .get("records")
        .and_then(Value::as_array)
        .ok_or("the body has no \"records\" array")?;
    for (index, record) in records.iter().enumerate() {
        check_record(record).map_err(|reason| format!("record {index}: {reason}"))?;
    }
    Ok(records.clone())
}

fn check_record(record: &Value) -> Result<(), &'static str> {
    if !record.get("event").is_some_and(Value::is_string) {
        return Err("\"event\" is missing or not a string");
    }
    if !record.get("event_timestamp").is_some_and(Value::is_u64) {
        return Err("\"event_timestamp\" is missing or not a non-negative integer");
    }
    if !record.get("source").is_some_and(Value::is_string) {
        return Err("\"source\" is missing or not a string");
    }
    if !record.get("properties").is_some_and(Value::is_object) {
        return Err("\"properties\" is missing or not an object");
    }
    Ok(())
}
