//! `environments`: `"os"`, `"arch"`, `"ci_provider"`, `"ai_agent"`, each an
//! object value → installs (the empty string for none).

use super::Query;
use rusqlite::Connection;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

const COLUMNS: [&str; 4] = ["os", "arch", "ci_provider", "ai_agent"];

pub fn answer(connection: &Connection, scope: &Query) -> rusqlite::Result<Map<String, Value>> {
    // One pass over the active installs: each (column, value) → its installs.
    let mut installs: [BTreeMap<String, HashSet<String>>; 4] = Default::default();
    scope.rows(
        connection,
        "{active}SELECT DISTINCT uid, os, arch, ci_provider, ai_agent FROM active",
        |row| {
            let uid: String = row.get(0)?;
            for (index, values) in installs.iter_mut().enumerate() {
                values
                    .entry(row.get(index + 1)?)
                    .or_default()
                    .insert(uid.clone());
            }
            Ok(())
        },
    )?;
    Ok(COLUMNS
        .iter()
        .zip(installs)
        .map(|(column, values)| {
            let counts: Map<String, Value> = values
                .into_iter()
                .map(|(value, ids)| (value, Value::from(ids.len())))
                .collect();
            ((*column).to_owned(), Value::Object(counts))
        })
        .collect())
}
