//! `records`: `"records":[…]`, the stored records in range as `export`
//! prints them (ordered by `event_timestamp`, then `event_id`). The API
//! answers `&format=ndjson` with one record a line instead.

use super::Scope;
use rusqlite::Connection;
use serde_json::{Map, Value};

pub fn answer(connection: &Connection, scope: &Scope) -> rusqlite::Result<Map<String, Value>> {
    let sql = format!(
        "SELECT body FROM records WHERE {} ORDER BY ts, event_id",
        Scope::WHERE
    );
    let mut statement = connection.prepare(&sql)?;
    let records = statement
        .query_map(scope.params(), |row| {
            let body: String = row.get(0)?;
            Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
        })?
        .collect::<rusqlite::Result<Vec<Value>>>()?;
    Ok(Map::from_iter([(
        "records".to_owned(),
        Value::Array(records),
    )]))
}
