//! `records`: `"records":[…]`, the stored records in range as `export`
//! prints them (ordered by `event_timestamp`, then `event_id`). The API
//! answers `&format=ndjson` with one record a line instead.

use super::Query;
use rusqlite::Connection;
use serde_json::{Map, Value};

pub fn answer(connection: &Connection, scope: &Query) -> rusqlite::Result<Map<String, Value>> {
    let records = scope.rows(
        connection,
        "SELECT body FROM records JOIN bodies USING (seq) WHERE {scope} ORDER BY ts, event_id",
        |row| {
            let body: String = row.get(0)?;
            Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
        },
    )?;
    Ok(Map::from_iter([(
        "records".to_owned(),
        Value::Array(records),
    )]))
}
