//! The views: each is a query plus a JSON shape, one file each, and
//! [`answer`] is the one function the JSON API, the page and the terminal
//! report call.
//!
//! Every answer is `{"app":A,"from":F,"to":T, …}`. Days are UTC days of
//! `event_timestamp`, `from` and `to` inclusive (default: the 30 days ending
//! today). A record with `sample_rate` R < 1 counts 1/R in `calls`,
//! `failures`, `records`, error and token counts (each sum rounded once, to
//! the nearest integer; `cost` stays a float); percentiles, installs,
//! sessions and `dropped` are not weighted. An install is a `user_uuid`; a
//! record with `"ephemeral_id": true` is never one. The `version` and `ci`
//! filters apply to the records a view reads; `new_installs` (each install's
//! first day for the app) does not depend on them.

mod apps;
mod calls;
mod commands;
mod daily;
mod environments;
mod errors;
pub mod percentile;
mod query;
mod records;
mod sessions;
mod tokens;
mod tools;
mod versions;

pub use query::Query;

use crate::day;
use crate::store::{Store, StoreError};
use serde_json::{Map, Value};
use std::fmt;
use std::str::FromStr;

/// The views `GET /api/v1/VIEW` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Each app: records, installs, first and last day.
    Apps,
    /// Per day: active and new installs, records, dropped.
    Daily,
    /// Per command: calls, failures, p50/p95 duration.
    Commands,
    /// Per tool: calls, failures, error kinds, p50/p95 duration.
    Tools,
    /// Command and tool failures by kind, and per day.
    Errors,
    /// Tokens and cost per model, and per day.
    Tokens,
    /// Session ends: count, with errors, tool calls and duration percentiles.
    Sessions,
    /// Active installs per version, and per day.
    Versions,
    /// Installs per os, arch, CI provider and AI agent.
    Environments,
    /// The stored records, as `export` prints them.
    Records,
}

impl View {
    /// Every view, in the order the API lists them.
    pub const ALL: [View; 10] = [
        View::Apps,
        View::Daily,
        View::Commands,
        View::Tools,
        View::Errors,
        View::Tokens,
        View::Sessions,
        View::Versions,
        View::Environments,
        View::Records,
    ];

    /// The view's name in the URL.
    pub fn name(self) -> &'static str {
        match self {
            View::Apps => "apps",
            View::Daily => "daily",
            View::Commands => "commands",
            View::Tools => "tools",
            View::Errors => "errors",
            View::Tokens => "tokens",
            View::Sessions => "sessions",
            View::Versions => "versions",
            View::Environments => "environments",
            View::Records => "records",
        }
    }
}

impl FromStr for View {
    type Err = ViewError;

    fn from_str(name: &str) -> Result<View, ViewError> {
        View::ALL
            .into_iter()
            .find(|view| view.name() == name)
            .ok_or_else(|| ViewError::UnknownView(name.to_owned()))
    }
}

/// Why a view could not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewError {
    /// No such view (404).
    UnknownView(String),
    /// A parameter is malformed (400).
    BadQuery(String),
    /// `app` was left out and the store holds several apps (400).
    AppRequired(Vec<String>),
    /// The store failed (500).
    Store(String),
}

impl ViewError {
    /// The HTTP status of this error.
    pub fn status(&self) -> u16 {
        match self {
            ViewError::UnknownView(_) => 404,
            ViewError::BadQuery(_) | ViewError::AppRequired(_) => 400,
            ViewError::Store(_) => 500,
        }
    }

    /// The error as the API's JSON body: `{"error":…}`, plus `"apps"` when
    /// an app must be chosen.
    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("error".into(), Value::String(self.to_string()));
        if let ViewError::AppRequired(apps) = self {
            body.insert(
                "apps".into(),
                Value::Array(apps.iter().cloned().map(Value::String).collect()),
            );
        }
        Value::Object(body)
    }
}

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViewError::UnknownView(name) => write!(f, "no view named {name:?}"),
            ViewError::BadQuery(reason) => f.write_str(reason),
            ViewError::AppRequired(apps) => write!(
                f,
                "the store holds several apps: choose one with app= ({})",
                apps.join(", ")
            ),
            ViewError::Store(reason) => write!(f, "the store failed: {reason}"),
        }
    }
}

impl std::error::Error for ViewError {}

impl From<rusqlite::Error> for ViewError {
    fn from(error: rusqlite::Error) -> Self {
        ViewError::Store(error.to_string())
    }
}

impl From<StoreError> for ViewError {
    fn from(error: StoreError) -> Self {
        ViewError::Store(error.to_string())
    }
}

/// One view's answer for a query: `{"app","from","to", …the view's fields}`.
pub fn answer(store: &Store, view: View, query: &Query) -> Result<Value, ViewError> {
    let app = match (&query.app, view) {
        (Some(app), _) => Some(app.clone()),
        (None, View::Apps) => None,
        (None, _) => {
            let apps = store.apps()?;
            match apps.len() {
                0 | 1 => apps.into_iter().next(),
                _ => return Err(ViewError::AppRequired(apps)),
            }
        }
    };
    let scope = Query {
        app: app.clone(),
        ..query.clone()
    };
    let connection = store.reader();
    let fields = match view {
        View::Apps => apps::answer(&connection, &scope)?,
        View::Daily => daily::answer(&connection, &scope)?,
        View::Commands => commands::answer(&connection, &scope)?,
        View::Tools => tools::answer(&connection, &scope)?,
        View::Errors => errors::answer(&connection, &scope)?,
        View::Tokens => tokens::answer(&connection, &scope)?,
        View::Sessions => sessions::answer(&connection, &scope)?,
        View::Versions => versions::answer(&connection, &scope)?,
        View::Environments => environments::answer(&connection, &scope)?,
        View::Records => records::answer(&connection, &scope)?,
    };
    let mut body = Map::new();
    body.insert("app".into(), app.map_or(Value::Null, Value::String));
    body.insert("from".into(), Value::String(day::format(query.from)));
    body.insert("to".into(), Value::String(day::format(query.to)));
    body.extend(fields);
    Ok(Value::Object(body))
}

/// A weighted sum as the views show it: rounded once, to the nearest
/// integer.
pub(crate) fn rounded(sum: f64) -> Value {
    // A sum of weights is finite and far below 2^53 for any real store.
    #[allow(clippy::cast_possible_truncation)]
    let count = sum.round() as i64;
    Value::from(count)
}

/// The entries by their count as shown (rounded) descending, then by key.
pub(crate) fn by_count<K: Ord, T>(
    entries: std::collections::BTreeMap<K, T>,
    count: impl Fn(&T) -> f64,
) -> Vec<(K, T)> {
    let mut list: Vec<(K, T)> = entries.into_iter().collect();
    list.sort_by(|(a_key, a), (b_key, b)| {
        count(b)
            .round()
            .total_cmp(&count(a).round())
            .then_with(|| a_key.cmp(b_key))
    });
    list
}

/// A value from a JSON column that may hold an integer or a float.
pub(crate) fn number(value: Option<Value>) -> f64 {
    value.as_ref().and_then(Value::as_f64).unwrap_or(0.0)
}

/// A common table `active(day, uid, version, os, arch, ci_provider,
/// ai_agent)`: the installs active in the scope, from raw records and from
/// the aggregates of days past retention. Prefix a query with it.
pub(crate) fn with_active() -> String {
    format!(
        "WITH active AS (
            SELECT day, uid, version, os, arch, ci_provider, ai_agent FROM records
            WHERE {w} AND eph = 0 AND uid <> ''
            UNION ALL
            SELECT day, uid, version, os, arch, ci_provider, ai_agent FROM agg_active WHERE {w}
         ) ",
        w = Query::WHERE
    )
}

/// Weighted sums of one aggregate metric in the scope:
/// `(day, name, key, value)` rows.
pub(crate) fn agg_sums(
    connection: &rusqlite::Connection,
    scope: &Query,
    metric: &str,
) -> rusqlite::Result<Vec<(i64, String, String, f64)>> {
    let sql = format!(
        "SELECT day, name, key, sum(value) FROM agg_sums WHERE {} AND metric = ?6
         GROUP BY day, name, key",
        Query::WHERE
    );
    let mut statement = connection.prepare_cached(&sql)?;
    let [a, b, c, d, e] = scope.params();
    let rows = statement
        .query_map(rusqlite::params![a, b, c, d, e, metric], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?
        .collect();
    rows
}

/// Durations of one metric from the aggregates: name → (value, count).
pub(crate) fn agg_durations(
    connection: &rusqlite::Connection,
    scope: &Query,
    metric: &str,
) -> rusqlite::Result<Vec<(String, i64, u64)>> {
    let sql = format!(
        "SELECT name, bucket, sum(count) FROM agg_durations WHERE {} AND metric = ?6
         GROUP BY name, bucket",
        Query::WHERE
    );
    let mut statement = connection.prepare_cached(&sql)?;
    let [a, b, c, d, e] = scope.params();
    let rows = statement
        .query_map(rusqlite::params![a, b, c, d, e, metric], |row| {
            let bucket: i64 = row.get(1)?;
            Ok((
                row.get(0)?,
                crate::store::retention::bucket_value(bucket),
                row.get(2)?,
            ))
        })?
        .collect();
    rows
}
