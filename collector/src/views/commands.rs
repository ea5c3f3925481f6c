//! `commands`: `"commands":[{"name","calls","failures","p50_ms","p95_ms"}]`,
//! by calls descending, then name.

use super::{agg_durations, agg_sums, percentile, rounded, Scope};
use rusqlite::Connection;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Default)]
struct Command {
    calls: f64,
    failures: f64,
    durations: Vec<(i64, u64)>,
}

pub fn answer(connection: &Connection, scope: &Scope) -> rusqlite::Result<Map<String, Value>> {
    let sql = format!(
        "SELECT name, weight, ok, duration_ms FROM records WHERE {} AND event = 'command'",
        Scope::WHERE
    );
    let mut statement = connection.prepare(&sql)?;
    let mut rows = statement.query(scope.params())?;
    let mut commands: BTreeMap<String, Command> = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let command = commands.entry(row.get(0)?).or_default();
        let weight: f64 = row.get(1)?;
        command.calls += weight;
        if row.get::<_, Option<bool>>(2)? == Some(false) {
            command.failures += weight;
        }
        if let Some(duration) = row.get::<_, Option<i64>>(3)? {
            command.durations.push((duration, 1));
        }
    }
    for (_, name, key, value) in agg_sums(connection, scope, "command")? {
        let command = commands.entry(name).or_default();
        match key.as_str() {
            "calls" => command.calls += value,
            "failures" => command.failures += value,
            _ => {}
        }
    }
    for (name, value, count) in agg_durations(connection, scope, "command")? {
        commands
            .entry(name)
            .or_default()
            .durations
            .push((value, count));
    }
    let mut list: Vec<(String, Command)> = commands.into_iter().collect();
    list.sort_by(|(a_name, a), (b_name, b)| {
        b.calls
            .round()
            .total_cmp(&a.calls.round())
            .then_with(|| a_name.cmp(b_name))
    });
    let commands: Vec<Value> = list
        .into_iter()
        .map(|(name, mut command)| {
            json!({
                "name": name,
                "calls": rounded(command.calls),
                "failures": rounded(command.failures),
                "p50_ms": percentile::weighted_json(&mut command.durations, 50),
                "p95_ms": percentile::weighted_json(&mut command.durations, 95),
            })
        })
        .collect();
    Ok(Map::from_iter([(
        "commands".to_owned(),
        Value::Array(commands),
    )]))
}
