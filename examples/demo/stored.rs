//! What the collector stored, read through its views.

use serde_json::Value;
use telemetry_collector::views::{self, Query, View};
use telemetry_collector::{day, Store};

/// How many records of the agent the collector holds.
pub fn stored_records(store: &Store) -> u64 {
    let apps = views::answer(store, View::Apps, &Query::last_30_days(day::today()));
    apps.ok()
        .and_then(|apps| {
            apps["apps"]
                .as_array()?
                .iter()
                .find(|app| app["app"] == "agent")
                .and_then(|app| app["records"].as_u64())
        })
        .unwrap_or(0)
}

/// The stored records, as `telemetry-collector export` prints them.
pub fn records_of(store: &Store) -> Result<Vec<Value>, String> {
    let mut query = Query::last_30_days(day::today());
    query.app = Some("agent".to_owned());
    let answer = views::answer(store, View::Records, &query).map_err(|error| error.to_string())?;
    Ok(answer["records"].as_array().cloned().unwrap_or_default())
}
