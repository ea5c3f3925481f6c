//! Taking apart the wire records a test received (from a collector, a
//! debug log or a spool file): their kinds, a property of each, and the
//! rule that no record arrives twice.

use serde_json::Value;
use std::collections::HashSet;

/// The string property `key` of each record, in order; a record without
/// it gives an empty string (so that a missing value shows in a
/// comparison instead of shifting the others).
pub fn strings<'a>(records: impl IntoIterator<Item = &'a Value>, key: &str) -> Vec<String> {
    records
        .into_iter()
        .map(|record| {
            record["properties"][key]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// The `event_id` of each record, in order.
pub fn event_ids<'a>(records: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    strings(records, "event_id")
}

/// Panics unless every record has an `event_id` and no two share one: no
/// record arrived twice.
pub fn assert_each_once(records: &[Value]) {
    let ids = event_ids(records);
    assert!(
        ids.iter().all(|id| !id.is_empty()),
        "a record without an event_id"
    );
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "a record arrived twice");
}

/// The `event` of each record, in order.
pub fn kinds(records: &[Value]) -> Vec<&str> {
    records
        .iter()
        .map(|record| record["event"].as_str().unwrap_or_default())
        .collect()
}

/// The records whose `event` is `kind`.
pub fn of_kind<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|record| record["event"] == kind)
        .collect()
}

/// The JSON records among `lines` (those that start with `{`), parsed;
/// panics on one that is not JSON.
pub fn parse_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<Value> {
    lines
        .into_iter()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).expect("a record line is JSON"))
        .collect()
}
