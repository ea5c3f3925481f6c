//! `versions`: `"versions":[{"version","active_installs"}]` over the range,
//! by active installs descending, then version; `"by_day":[{"day","version",
//! "active_installs"}]`, by day then version.

use super::with_active;
use crate::day;
use rusqlite::Connection;
use serde_json::{json, Map, Value};

pub fn answer(
    connection: &Connection,
    scope: &super::Scope,
) -> rusqlite::Result<Map<String, Value>> {
    let sql = format!(
        "{}SELECT version, count(DISTINCT uid) AS installs FROM active
         GROUP BY version ORDER BY installs DESC, version",
        with_active()
    );
    let mut statement = connection.prepare(&sql)?;
    let versions = statement
        .query_map(scope.params(), |row| {
            Ok(json!({"version": row.get::<_, String>(0)?, "active_installs": row.get::<_, i64>(1)?}))
        })?
        .collect::<rusqlite::Result<Vec<Value>>>()?;
    let sql = format!(
        "{}SELECT day, version, count(DISTINCT uid) FROM active
         GROUP BY day, version ORDER BY day, version",
        with_active()
    );
    let mut statement = connection.prepare(&sql)?;
    let by_day = statement
        .query_map(scope.params(), |row| {
            Ok(json!({
                "day": day::format(row.get(0)?),
                "version": row.get::<_, String>(1)?,
                "active_installs": row.get::<_, i64>(2)?,
            }))
        })?
        .collect::<rusqlite::Result<Vec<Value>>>()?;
    Ok(Map::from_iter([
        ("versions".to_owned(), Value::Array(versions)),
        ("by_day".to_owned(), Value::Array(by_day)),
    ]))
}
