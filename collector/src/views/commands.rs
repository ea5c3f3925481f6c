//! `commands`: `"commands":[{"name","calls","failures","p50_ms","p95_ms"}]`,
//! by calls descending, then name.

use super::{calls, Query};
use rusqlite::Connection;
use serde_json::{Map, Value};

pub fn answer(connection: &Connection, scope: &Query) -> rusqlite::Result<Map<String, Value>> {
    let commands = calls::by_name(connection, scope, "command")?;
    Ok(Map::from_iter([(
        "commands".to_owned(),
        calls::listed(commands, false),
    )]))
}
