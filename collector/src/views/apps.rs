//! `apps`: `"apps":[{"app","records","installs","first_day","last_day"}]`,
//! by app name, over the range (no `app` needed; with one, that app only).

use super::{rounded, Query};
use crate::day;
use rusqlite::Connection;
use serde_json::{json, Map, Value};

pub fn answer(connection: &Connection, scope: &Query) -> rusqlite::Result<Map<String, Value>> {
    // The scope's app condition becomes "this app, or any when empty".
    let filter = "(?1 = '' OR app = ?1) AND day BETWEEN ?2 AND ?3 \
        AND (?4 IS NULL OR version = ?4) AND (?5 IS NULL OR ci = ?5)";
    let sql = format!(
        "WITH counted AS (
            SELECT app, day, weight AS records,
                   CASE WHEN eph = 0 AND uid <> '' THEN uid END AS uid
            FROM records WHERE {filter}
            UNION ALL
            SELECT app, day, value, NULL FROM agg_sums WHERE {filter} AND metric = 'records'
            UNION ALL
            SELECT app, day, 0, uid FROM agg_active WHERE {filter}
         )
         SELECT app, sum(records), count(DISTINCT uid), min(day), max(day) FROM counted
         GROUP BY app ORDER BY app"
    );
    let apps = scope.rows(connection, &sql, |row| {
        Ok(json!({
            "app": row.get::<_, String>(0)?,
            "records": rounded(row.get(1)?),
            "installs": row.get::<_, i64>(2)?,
            "first_day": day::format(row.get(3)?),
            "last_day": day::format(row.get(4)?),
        }))
    })?;
    Ok(Map::from_iter([("apps".to_owned(), Value::Array(apps))]))
}
