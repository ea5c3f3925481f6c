//! `errors`: `"errors":[{"event","name","kind","count","installs",
//! "first_version","last_version"}]` for command and tool failures (a
//! `tool_summary`'s `error_kinds` count as `"event":"tool"` failures of its
//! tool), by count descending, then event, name, kind; first and last
//! version are those of the earliest and latest such record. `"by_day":
//! [{"day","kind","count"}]`, by day then kind.

use super::{rounded, Scope};
use crate::day;
use rusqlite::Connection;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Default)]
struct Group {
    count: f64,
    installs: BTreeSet<String>,
    first: Option<((i64, i64), String)>,
    last: Option<((i64, i64), String)>,
}

/// The `error_kinds` object of a summary (JSON text), as kind → count.
pub(crate) fn kinds_of(json_text: Option<String>) -> Vec<(String, f64)> {
    let value: Value = json_text
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(kind, count)| (kind.clone(), count.as_f64().unwrap_or(0.0)))
        .collect()
}

pub fn answer(connection: &Connection, scope: &Scope) -> rusqlite::Result<Map<String, Value>> {
    let sql = format!(
        "SELECT event, name, error, NULL, weight, CASE WHEN eph = 0 THEN uid ELSE '' END,
                version, ts, seq, day
         FROM records WHERE {} AND event IN ('command', 'tool') AND ok = 0
         UNION ALL
         SELECT 'tool', name, NULL, json_extract(body, '$.properties.error_kinds'), weight,
                CASE WHEN eph = 0 THEN uid ELSE '' END, version, ts, seq, day
         FROM records WHERE {} AND event = 'tool_summary'",
        Scope::WHERE,
        Scope::WHERE
    );
    let mut statement = connection.prepare(&sql)?;
    let mut rows = statement.query(scope.params())?;
    let mut groups: BTreeMap<(String, String, String), Group> = BTreeMap::new();
    let mut by_day: BTreeMap<(i64, String), f64> = BTreeMap::new();
    while let Some(row) = rows.next()? {
        let event: String = row.get(0)?;
        let name: String = row.get(1)?;
        let weight: f64 = row.get(4)?;
        let uid: String = row.get(5)?;
        let version: String = row.get(6)?;
        let order: (i64, i64) = (row.get(7)?, row.get(8)?);
        let day: i64 = row.get(9)?;
        let kinds = match row.get::<_, Option<String>>(3)? {
            Some(summary) => kinds_of(Some(summary)),
            None => vec![(row.get::<_, Option<String>>(2)?.unwrap_or_default(), 1.0)],
        };
        for (kind, count) in kinds {
            if count <= 0.0 {
                continue;
            }
            let group = groups
                .entry((event.clone(), name.clone(), kind.clone()))
                .or_default();
            group.count += weight * count;
            if !uid.is_empty() {
                group.installs.insert(uid.clone());
            }
            if group.first.as_ref().is_none_or(|(at, _)| order < *at) {
                group.first = Some((order, version.clone()));
            }
            if group.last.as_ref().is_none_or(|(at, _)| order > *at) {
                group.last = Some((order, version.clone()));
            }
            *by_day.entry((day, kind)).or_default() += weight * count;
        }
    }
    let sql = format!(
        "SELECT event, name, kind, day, count, first_ts, first_version, last_ts, last_version
         FROM agg_errors WHERE {}",
        Scope::WHERE
    );
    let mut statement = connection.prepare(&sql)?;
    let mut rows = statement.query(scope.params())?;
    while let Some(row) = rows.next()? {
        let key: (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let day: i64 = row.get(3)?;
        let count: f64 = row.get(4)?;
        // Aggregated days have no raw rows: order them by time alone.
        let first = ((row.get::<_, i64>(5)?, i64::MIN), row.get::<_, String>(6)?);
        let last = ((row.get::<_, i64>(7)?, i64::MIN), row.get::<_, String>(8)?);
        *by_day.entry((day, key.2.clone())).or_default() += count;
        let group = groups.entry(key).or_default();
        group.count += count;
        if group.first.as_ref().is_none_or(|(at, _)| first.0 < *at) {
            group.first = Some(first);
        }
        if group.last.as_ref().is_none_or(|(at, _)| last.0 > *at) {
            group.last = Some(last);
        }
    }
    let sql = format!(
        "SELECT event, name, kind, uid FROM agg_error_installs WHERE {}",
        Scope::WHERE
    );
    let mut statement = connection.prepare(&sql)?;
    let mut rows = statement.query(scope.params())?;
    while let Some(row) = rows.next()? {
        let key: (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        if let Some(group) = groups.get_mut(&key) {
            group.installs.insert(row.get(3)?);
        }
    }
    let mut list: Vec<((String, String, String), Group)> = groups.into_iter().collect();
    list.sort_by(|(a_key, a), (b_key, b)| {
        b.count
            .round()
            .total_cmp(&a.count.round())
            .then_with(|| a_key.cmp(b_key))
    });
    let errors: Vec<Value> = list
        .into_iter()
        .map(|((event, name, kind), group)| {
            json!({
                "event": event,
                "name": name,
                "kind": kind,
                "count": rounded(group.count),
                "installs": group.installs.len(),
                "first_version": group.first.map(|(_, version)| version),
                "last_version": group.last.map(|(_, version)| version),
            })
        })
        .collect();
    let by_day: Vec<Value> = by_day
        .into_iter()
        .map(|((day, kind), count)| {
            json!({"day": day::format(day), "kind": kind, "count": rounded(count)})
        })
        .collect();
    Ok(Map::from_iter([
        ("errors".to_owned(), Value::Array(errors)),
        ("by_day".to_owned(), Value::Array(by_day)),
    ]))
}
