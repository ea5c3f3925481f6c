//! `apps`: `"apps":[{"app","records","installs","first_day","last_day"}]`,
//! by app name, over the range (no `app` needed).

use super::{rounded, Scope, INSTALL};
use crate::day;
use rusqlite::Connection;
use serde_json::{json, Map, Value};

pub fn answer(connection: &Connection, scope: &Scope) -> rusqlite::Result<Map<String, Value>> {
    let sql = format!(
        "SELECT app, sum(weight), count(DISTINCT {INSTALL}), min(day), max(day) FROM records
         WHERE day BETWEEN ?2 AND ?3 AND (?4 IS NULL OR version = ?4) AND (?5 IS NULL OR ci = ?5)
           AND (?1 = '' OR app = ?1)
         GROUP BY app ORDER BY app"
    );
    let mut statement = connection.prepare(&sql)?;
    let apps = statement
        .query_map(scope.params(), |row| {
            Ok(json!({
                "app": row.get::<_, String>(0)?,
                "records": rounded(row.get(1)?),
                "installs": row.get::<_, i64>(2)?,
                "first_day": day::format(row.get(3)?),
                "last_day": day::format(row.get(4)?),
            }))
        })?
        .collect::<rusqlite::Result<Vec<Value>>>()?;
    Ok(Map::from_iter([("apps".to_owned(), Value::Array(apps))]))
}
