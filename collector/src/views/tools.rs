//! `tools`: `"tools":[{"name","calls","failures","error_kinds":{KIND:N},
//! "p50_ms","p95_ms"}]`, by calls descending, then name. `tool_summary`
//! records add their `calls`, `errors` and `error_kinds`; percentiles are
//! over the individual calls (`tool` records).

use super::{agg_durations, agg_sums, number, percentile, rounded, Scope};
use rusqlite::Connection;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Default)]
struct Tool {
    calls: f64,
    failures: f64,
    error_kinds: BTreeMap<String, f64>,
    durations: Vec<(i64, u64)>,
}

pub fn answer(connection: &Connection, scope: &Scope) -> rusqlite::Result<Map<String, Value>> {
    let mut tools: BTreeMap<String, Tool> = BTreeMap::new();
    let sql = format!(
        "SELECT name, weight, ok, duration_ms, error FROM records WHERE {} AND event = 'tool'",
        Scope::WHERE
    );
    let mut statement = connection.prepare(&sql)?;
    let mut rows = statement.query(scope.params())?;
    while let Some(row) = rows.next()? {
        let tool = tools.entry(row.get(0)?).or_default();
        let weight: f64 = row.get(1)?;
        tool.calls += weight;
        if row.get::<_, Option<bool>>(2)? == Some(false) {
            tool.failures += weight;
            let kind: Option<String> = row.get(4)?;
            *tool
                .error_kinds
                .entry(kind.unwrap_or_default())
                .or_default() += weight;
        }
        if let Some(duration) = row.get::<_, Option<i64>>(3)? {
            tool.durations.push((duration, 1));
        }
    }
    let sql = format!(
        "SELECT name, weight, json_extract(body, '$.properties.calls'),
                json_extract(body, '$.properties.errors'),
                json_extract(body, '$.properties.error_kinds')
         FROM records WHERE {} AND event = 'tool_summary'",
        Scope::WHERE
    );
    let mut statement = connection.prepare(&sql)?;
    let mut rows = statement.query(scope.params())?;
    while let Some(row) = rows.next()? {
        let tool = tools.entry(row.get(0)?).or_default();
        let weight: f64 = row.get(1)?;
        tool.calls += weight * number(row.get::<_, Option<f64>>(2)?.map(Value::from));
        tool.failures += weight * number(row.get::<_, Option<f64>>(3)?.map(Value::from));
        for (kind, count) in super::errors::kinds_of(row.get(4)?) {
            *tool.error_kinds.entry(kind).or_default() += weight * count;
        }
    }
    for (_, name, key, value) in agg_sums(connection, scope, "tool")? {
        let tool = tools.entry(name).or_default();
        match key.as_str() {
            "calls" => tool.calls += value,
            "failures" => tool.failures += value,
            other => {
                if let Some(kind) = other.strip_prefix("kind:") {
                    *tool.error_kinds.entry(kind.to_owned()).or_default() += value;
                }
            }
        }
    }
    for (name, value, count) in agg_durations(connection, scope, "tool")? {
        tools
            .entry(name)
            .or_default()
            .durations
            .push((value, count));
    }
    let mut list: Vec<(String, Tool)> = tools.into_iter().collect();
    list.sort_by(|(a_name, a), (b_name, b)| {
        b.calls
            .round()
            .total_cmp(&a.calls.round())
            .then_with(|| a_name.cmp(b_name))
    });
    let tools: Vec<Value> = list
        .into_iter()
        .map(|(name, mut tool)| {
            let kinds: Map<String, Value> = tool
                .error_kinds
                .iter()
                .map(|(kind, count)| (kind.clone(), rounded(*count)))
                .collect();
            json!({
                "name": name,
                "calls": rounded(tool.calls),
                "failures": rounded(tool.failures),
                "error_kinds": kinds,
                "p50_ms": percentile::weighted_json(&mut tool.durations, 50),
                "p95_ms": percentile::weighted_json(&mut tool.durations, 95),
            })
        })
        .collect();
    Ok(Map::from_iter([("tools".to_owned(), Value::Array(tools))]))
}
