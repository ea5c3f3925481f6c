//! What `commands` and `tools` share: calls, failures (with their error
//! kinds) and durations per name, from the raw records and from the
//! aggregates of days past retention, listed by calls descending, then
//! name.

use super::{agg_durations, agg_sums, by_count, percentile, rounded, Query};
use rusqlite::Connection;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One command's or tool's figures.
#[derive(Default)]
pub(super) struct Calls {
    /// Weighted calls.
    pub calls: f64,
    /// Weighted failures.
    pub failures: f64,
    /// Weighted failures by error kind.
    pub error_kinds: BTreeMap<String, f64>,
    /// Durations and how many calls took each.
    durations: Vec<(i64, u64)>,
}

/// The calls of `event` (`command` or `tool`) records, by name: the raw
/// records' and the aggregates'.
pub(super) fn by_name(
    connection: &Connection,
    scope: &Query,
    event: &str,
) -> rusqlite::Result<BTreeMap<String, Calls>> {
    let mut names: BTreeMap<String, Calls> = BTreeMap::new();
    scope.rows(
        connection,
        &format!(
            "SELECT name, weight, ok, duration_ms, error FROM records
             WHERE {{scope}} AND event = '{event}'"
        ),
        |row| {
            let calls = names.entry(row.get(0)?).or_default();
            let weight: f64 = row.get(1)?;
            calls.calls += weight;
            if row.get::<_, Option<bool>>(2)? == Some(false) {
                calls.failures += weight;
                let kind: Option<String> = row.get(4)?;
                *calls
                    .error_kinds
                    .entry(kind.unwrap_or_default())
                    .or_default() += weight;
            }
            if let Some(duration) = row.get::<_, Option<i64>>(3)? {
                calls.durations.push((duration, 1));
            }
            Ok(())
        },
    )?;
    for (_, name, key, value) in agg_sums(connection, scope, event)? {
        let calls = names.entry(name).or_default();
        match key.as_str() {
            "calls" => calls.calls += value,
            "failures" => calls.failures += value,
            other => {
                if let Some(kind) = other.strip_prefix("kind:") {
                    *calls.error_kinds.entry(kind.to_owned()).or_default() += value;
                }
            }
        }
    }
    for (name, value, count) in agg_durations(connection, scope, event)? {
        names
            .entry(name)
            .or_default()
            .durations
            .push((value, count));
    }
    Ok(names)
}

/// The answer's list: `{"name","calls","failures"[,"error_kinds"],"p50_ms",
/// "p95_ms"}` by calls descending (as shown: rounded), then name.
pub(super) fn listed(names: BTreeMap<String, Calls>, with_kinds: bool) -> Value {
    by_count(names, |calls| calls.calls)
        .into_iter()
        .map(|(name, mut calls)| {
            let mut entry = Map::new();
            entry.insert("name".into(), Value::String(name));
            entry.insert("calls".into(), rounded(calls.calls));
            entry.insert("failures".into(), rounded(calls.failures));
            if with_kinds {
                let kinds: Map<String, Value> = calls
                    .error_kinds
                    .iter()
                    .map(|(kind, count)| (kind.clone(), rounded(*count)))
                    .collect();
                entry.insert("error_kinds".into(), Value::Object(kinds));
            }
            for (key, rank) in [("p50_ms", 50), ("p95_ms", 95)] {
                entry.insert(
                    key.into(),
                    percentile::weighted_json(&mut calls.durations, rank),
                );
            }
            Value::Object(entry)
        })
        .collect()
}
