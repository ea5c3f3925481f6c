//! `daily`: `"days":[{"day","active_installs","new_installs","records",
//! "dropped"}]`, one entry for every day in range (zeros included);
//! `"dropped":{REASON:N}` (the range's `client_report` counts) and
//! `"deletion_requests":N` at the top level.

use super::{agg_sums, rounded, Query};
use crate::day;
use rusqlite::{params_from_iter, Connection};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Default)]
struct Day {
    active: i64,
    new: i64,
    records: f64,
    dropped: BTreeMap<String, i64>,
}

pub fn answer(connection: &Connection, scope: &Query) -> rusqlite::Result<Map<String, Value>> {
    let mut days: BTreeMap<i64, Day> = (scope.from..=scope.to)
        .map(|day| (day, Day::default()))
        .collect();
    scope.rows(
        connection,
        "SELECT day, sum(weight) FROM records WHERE {scope} GROUP BY day",
        |row| {
            if let Some(entry) = days.get_mut(&row.get(0)?) {
                entry.records += row.get::<_, f64>(1)?;
            }
            Ok(())
        },
    )?;
    scope.rows(
        connection,
        "{active}SELECT day, count(DISTINCT uid) FROM active GROUP BY day",
        |row| {
            if let Some(entry) = days.get_mut(&row.get(0)?) {
                entry.active = row.get(1)?;
            }
            Ok(())
        },
    )?;
    for (day, _, _, value) in agg_sums(connection, scope, "records")? {
        if let Some(entry) = days.get_mut(&day) {
            entry.records += value;
        }
    }
    let mut statement = connection.prepare(
        "SELECT first_day, count(*) FROM installs
         WHERE app = ?1 AND first_day BETWEEN ?2 AND ?3 GROUP BY first_day",
    )?;
    let mut rows = statement.query(params_from_iter(&scope.params()[..3]))?;
    while let Some(row) = rows.next()? {
        if let Some(entry) = days.get_mut(&row.get(0)?) {
            entry.new = row.get(1)?;
        }
    }
    let mut total_dropped: BTreeMap<String, i64> = BTreeMap::new();
    scope.rows(
        connection,
        "SELECT day, detail FROM records WHERE {scope} AND event = 'client_report'",
        |row| {
            let dropped: Option<String> = row.get(1)?;
            let dropped: Value = dropped
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or(Value::Null);
            let Some(entry) = days.get_mut(&row.get(0)?) else {
                return Ok(());
            };
            for (reason, count) in dropped.as_object().into_iter().flatten() {
                let count = count.as_i64().unwrap_or(0);
                *entry.dropped.entry(reason.clone()).or_default() += count;
                *total_dropped.entry(reason.clone()).or_default() += count;
            }
            Ok(())
        },
    )?;
    for (day, reason, _, value) in agg_sums(connection, scope, "dropped")? {
        if let Some(entry) = days.get_mut(&day) {
            // Counts of dropped records are whole numbers.
            #[allow(clippy::cast_possible_truncation)]
            let count = value.round() as i64;
            *entry.dropped.entry(reason.clone()).or_default() += count;
            *total_dropped.entry(reason).or_default() += count;
        }
    }
    let deletion_requests: i64 = connection.query_row(
        "SELECT count(*) FROM deletion_requests WHERE app = ?1 AND day BETWEEN ?2 AND ?3",
        params_from_iter(&scope.params()[..3]),
        |row| row.get(0),
    )?;
    let days: Vec<Value> = days
        .into_iter()
        .map(|(day, entry)| {
            json!({
                "day": day::format(day),
                "active_installs": entry.active,
                "new_installs": entry.new,
                "records": rounded(entry.records),
                "dropped": entry.dropped,
            })
        })
        .collect();
    Ok(Map::from_iter([
        ("days".to_owned(), Value::Array(days)),
        ("dropped".to_owned(), json!(total_dropped)),
        (
            "deletion_requests".to_owned(),
            Value::from(deletion_requests),
        ),
    ]))
}
