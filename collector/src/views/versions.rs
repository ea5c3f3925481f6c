//! `versions`: `"versions":[{"version","active_installs"}]` over the range,
//! by active installs descending, then version; `"by_day":[{"day","version",
//! "active_installs"}]`, by day then version.

use super::{Scope, INSTALL};
use crate::day;
use rusqlite::Connection;
use serde_json::{json, Map, Value};

pub fn answer(connection: &Connection, scope: &Scope) -> rusqlite::Result<Map<String, Value>> {
    let sql = format!(
        "SELECT version, count(DISTINCT {INSTALL}) AS installs FROM records WHERE {}
         GROUP BY version HAVING installs > 0 ORDER BY installs DESC, version",
        Scope::WHERE
    );
    let mut statement = connection.prepare(&sql)?;
    let versions = statement
        .query_map(scope.params(), |row| {
            Ok(json!({"version": row.get::<_, String>(0)?, "active_installs": row.get::<_, i64>(1)?}))
        })?
        .collect::<rusqlite::Result<Vec<Value>>>()?;
    let sql = format!(
        "SELECT day, version, count(DISTINCT {INSTALL}) AS installs FROM records WHERE {}
         GROUP BY day, version HAVING installs > 0 ORDER BY day, version",
        Scope::WHERE
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
