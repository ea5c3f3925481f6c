//! `environments`: `"os"`, `"arch"`, `"ci_provider"`, `"ai_agent"`, each an
//! object value → installs (the empty string for none).

use super::{with_active, Scope};
use rusqlite::Connection;
use serde_json::{Map, Value};

pub fn answer(connection: &Connection, scope: &Scope) -> rusqlite::Result<Map<String, Value>> {
    let mut answer = Map::new();
    for column in ["os", "arch", "ci_provider", "ai_agent"] {
        let sql = format!(
            "{}SELECT {column}, count(DISTINCT uid) FROM active GROUP BY {column}",
            with_active()
        );
        let mut statement = connection.prepare(&sql)?;
        let values = statement
            .query_map(scope.params(), |row| {
                Ok((row.get::<_, String>(0)?, Value::from(row.get::<_, i64>(1)?)))
            })?
            .collect::<rusqlite::Result<Map<String, Value>>>()?;
        answer.insert(column.to_owned(), Value::Object(values));
    }
    Ok(answer)
}
