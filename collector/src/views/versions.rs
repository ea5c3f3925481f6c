//! `versions`: `"versions":[{"version","active_installs"}]` over the range,
//! by active installs descending, then version; `"by_day":[{"day","version",
//! "active_installs"}]`, by day then version.

use crate::day;
use rusqlite::Connection;
use serde_json::{json, Map, Value};

pub fn answer(
    connection: &Connection,
    scope: &super::Query,
) -> rusqlite::Result<Map<String, Value>> {
    let versions = scope.rows(
        connection,
        "{active}SELECT version, count(DISTINCT uid) AS installs FROM active
         GROUP BY version ORDER BY installs DESC, version",
        |row| {
            Ok(json!({"version": row.get::<_, String>(0)?, "active_installs": row.get::<_, i64>(1)?}))
        },
    )?;
    let by_day = scope.rows(
        connection,
        "{active}SELECT day, version, count(DISTINCT uid) FROM active
         GROUP BY day, version ORDER BY day, version",
        |row| {
            Ok(json!({
                "day": day::format(row.get(0)?),
                "version": row.get::<_, String>(1)?,
                "active_installs": row.get::<_, i64>(2)?,
            }))
        },
    )?;
    Ok(Map::from_iter([
        ("versions".to_owned(), Value::Array(versions)),
        ("by_day".to_owned(), Value::Array(by_day)),
    ]))
}
