//! `sessions`: `"sessions":{"count","with_errors","tool_calls_p50",
//! "tool_calls_p95","duration_p50_ms","duration_p95_ms"}` from session end
//! records (not weighted). A session has errors when its `error_count` is
//! above 0 or it did not succeed.

use super::{percentile, Query};
use rusqlite::Connection;
use serde_json::{json, Map, Value};

pub fn answer(connection: &Connection, scope: &Query) -> rusqlite::Result<Map<String, Value>> {
    let (mut count, mut with_errors) = (0_i64, 0_i64);
    let (mut tool_calls, mut durations) = (Vec::new(), Vec::new());
    scope.rows(
        connection,
        "SELECT ok, duration_ms, n1, n2 FROM records
         WHERE {scope} AND event = 'session' AND action = 'end'",
        |row| {
            count += 1;
            let ok: Option<bool> = row.get(0)?;
            let errors: Option<i64> = row.get(3)?;
            if ok == Some(false) || errors.unwrap_or(0) > 0 {
                with_errors += 1;
            }
            if let Some(duration) = row.get::<_, Option<i64>>(1)? {
                durations.push(duration);
            }
            if let Some(calls) = row.get::<_, Option<i64>>(2)? {
                tool_calls.push(calls);
            }
            Ok(())
        },
    )?;
    Ok(Map::from_iter([(
        "sessions".to_owned(),
        json!({
            "count": count,
            "with_errors": with_errors,
            "tool_calls_p50": percentile::json(&mut tool_calls, 50),
            "tool_calls_p95": percentile::json(&mut tool_calls, 95),
            "duration_p50_ms": percentile::json(&mut durations, 50),
            "duration_p95_ms": percentile::json(&mut durations, 95),
        }),
    )]))
}
