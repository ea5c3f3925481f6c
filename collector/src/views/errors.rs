//! `errors`: `"errors":[{"event","name","kind","count","installs",
//! "first_version","last_version"}]` for command and tool failures (a
//! `tool_summary`'s `error_kinds` count as `"event":"tool"` failures of its
//! tool), by count descending, then event, name, kind; first and last
//! version are those of the earliest and latest such record. `"by_day":
//! [{"day","kind","count"}]`, by day then kind.

use super::{by_count, rounded, Query};
use crate::day;
use rusqlite::Connection;
use serde_json::{json, Map, Value};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Default)]
struct Group {
    count: f64,
    installs: BTreeSet<String>,
    first: Option<((i64, i64), String)>,
    last: Option<((i64, i64), String)>,
}

/// Puts (`at`, `version`) in `slot` when it is empty or `at` compares to
/// what it holds as `wanted` (`Less`: the earliest, `Greater`: the latest).
fn keep(slot: &mut Option<((i64, i64), String)>, at: (i64, i64), version: &str, wanted: Ordering) {
    if slot.as_ref().is_none_or(|(held, _)| at.cmp(held) == wanted) {
        *slot = Some((at, version.to_owned()));
    }
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

pub fn answer(connection: &Connection, scope: &Query) -> rusqlite::Result<Map<String, Value>> {
    let mut groups: BTreeMap<(String, String, String), Group> = BTreeMap::new();
    let mut by_day: BTreeMap<(i64, String), f64> = BTreeMap::new();
    let failures =
        "SELECT event, name, error, NULL, weight, CASE WHEN eph = 0 THEN uid ELSE '' END,
                version, ts, seq, day
         FROM records WHERE {scope} AND event IN ('command', 'tool') AND ok = 0
         UNION ALL
         SELECT 'tool', name, NULL, detail, weight,
                CASE WHEN eph = 0 THEN uid ELSE '' END, version, ts, seq, day
         FROM records WHERE {scope} AND event = 'tool_summary'";
    scope.rows(connection, failures, |row| {
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
            keep(&mut group.first, order, &version, Ordering::Less);
            keep(&mut group.last, order, &version, Ordering::Greater);
            *by_day.entry((day, kind)).or_default() += weight * count;
        }
        Ok(())
    })?;
    let aggregated = "SELECT event, name, kind, day, count, first_ts, first_version, last_ts,
                last_version
         FROM agg_errors WHERE {scope}";
    scope.rows(connection, aggregated, |row| {
        let key: (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let day: i64 = row.get(3)?;
        let count: f64 = row.get(4)?;
        // Aggregated days have no raw rows: order them by time alone.
        let (first_ts, first_version): (i64, String) = (row.get(5)?, row.get(6)?);
        let (last_ts, last_version): (i64, String) = (row.get(7)?, row.get(8)?);
        *by_day.entry((day, key.2.clone())).or_default() += count;
        let group = groups.entry(key).or_default();
        group.count += count;
        keep(
            &mut group.first,
            (first_ts, i64::MIN),
            &first_version,
            Ordering::Less,
        );
        keep(
            &mut group.last,
            (last_ts, i64::MIN),
            &last_version,
            Ordering::Greater,
        );
        Ok(())
    })?;
    scope.rows(
        connection,
        "SELECT event, name, kind, uid FROM agg_error_installs WHERE {scope}",
        |row| {
            let key: (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
            if let Some(group) = groups.get_mut(&key) {
                group.installs.insert(row.get(3)?);
            }
            Ok(())
        },
    )?;
    let errors: Vec<Value> = by_count(groups, |group| group.count)
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
