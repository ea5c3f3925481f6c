//! `tools`: `"tools":[{"name","calls","failures","error_kinds":{KIND:N},
//! "p50_ms","p95_ms"}]`, by calls descending, then name. `tool_summary`
//! records add their `calls`, `errors` and `error_kinds`; percentiles are
//! over the individual calls (`tool` records).

use super::{calls, number, Query};
use rusqlite::Connection;
use serde_json::{Map, Value};

pub fn answer(connection: &Connection, scope: &Query) -> rusqlite::Result<Map<String, Value>> {
    let mut tools = calls::by_name(connection, scope, "tool")?;
    scope.rows(
        connection,
        "SELECT name, weight, n1, n2, detail FROM records
         WHERE {scope} AND event = 'tool_summary'",
        |row| {
            let tool = tools.entry(row.get(0)?).or_default();
            let weight: f64 = row.get(1)?;
            tool.calls += weight * number(row.get::<_, Option<f64>>(2)?.map(Value::from));
            tool.failures += weight * number(row.get::<_, Option<f64>>(3)?.map(Value::from));
            for (kind, count) in super::errors::kinds_of(row.get(4)?) {
                *tool.error_kinds.entry(kind).or_default() += weight * count;
            }
            Ok(())
        },
    )?;
    Ok(Map::from_iter([(
        "tools".to_owned(),
        calls::listed(tools, true),
    )]))
}
