//! The store: one SQLite file in WAL mode (`schema`), one row per
//! `event_id` (`row`). An ingest is one transaction: a request is stored
//! whole or not at all, and its answer is sent after the commit.
//!
//! Nothing about the sender is kept: no network address, no User-Agent, no
//! header value; only the records.

pub mod forward;
pub mod retention;
pub mod row;
pub mod schema;

use row::Row;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Why the store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The file could not be opened as this collector's database.
    Open(String),
    /// A query or a write failed.
    Sql(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Open(message) => write!(f, "cannot open the database: {message}"),
            StoreError::Sql(message) => write!(f, "database error: {message}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Sql(error.to_string())
    }
}

/// What an ingest did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Records accepted (new ones, duplicates, and deletion requests).
    pub accepted: usize,
    /// Of those, records stored as new rows.
    pub stored: usize,
}

/// The collector's database.
pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    retention_days: AtomicU32,
    forwarding: std::sync::atomic::AtomicBool,
}

impl Store {
    /// Opens the database at `path`, creating it when `create` is set.
    pub fn open(path: &Path, create: bool) -> Result<Store, StoreError> {
        let writer = schema::open(path, create)?;
        let reader = schema::open(path, false)?;
        Ok(Store {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            retention_days: AtomicU32::new(0),
            forwarding: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Opens an existing database for reading only: no migration, no
    /// write (the `report` command); a write through it fails.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            path: path.to_owned(),
            writer: Mutex::new(schema::open_read_only(path)?),
            reader: Mutex::new(schema::open_read_only(path)?),
            retention_days: AtomicU32::new(0),
            forwarding: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Keeps raw records for this many days (0: for ever); older ones are
    /// folded into the per-day aggregates (see [`retention`]).
    pub fn set_retention_days(&self, days: u32) {
        self.retention_days.store(days, Ordering::SeqCst);
    }

    /// Keeps deletion requests for the forwarder (`--forward-otlp`).
    pub fn set_forwarding(&self, on: bool) {
        self.forwarding.store(on, Ordering::SeqCst);
    }

    /// Folds and removes the raw records past retention on `today`.
    pub fn expire(&self, today: i64) -> Result<usize, StoreError> {
        let days = self.retention_days.load(Ordering::SeqCst);
        Ok(retention::expire(&mut self.writer(), days, today)?)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection the views read through.
    pub fn reader(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The connection every write goes through.
    pub fn writer(&self) -> MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores usable wire records in one transaction. A record whose
    /// `event_id` is stored already is accepted and left as it was; a
    /// `deletion_request` erases that install's records for its app and is
    /// counted, not stored.
    pub fn ingest(&self, records: &[Value]) -> Result<Ingested, StoreError> {
        let retention_days = self.retention_days.load(Ordering::SeqCst);
        let forwarding = self.forwarding.load(Ordering::SeqCst);
        let today = crate::day::today();
        let mut connection = self.writer();
        let transaction = connection.transaction()?;
        let mut ingested = Ingested::default();
        {
            let mut insert = transaction.prepare_cached(
                "INSERT OR IGNORE INTO records (event_id, app, event, ts, day, uid, eph, version,
                    os, arch, ci, ci_provider, ai_agent, name, action, ok, duration_ms, error,
                    weight, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    ?17, ?18, ?19, ?20)",
            )?;
            let mut install = transaction.prepare_cached(
                "INSERT INTO installs (app, uid, first_day) VALUES (?1, ?2, ?3)
                 ON CONFLICT (app, uid) DO UPDATE SET first_day = min(first_day, excluded.first_day)",
            )?;
            for record in records {
                let row = Row::of(record);
                ingested.accepted += 1;
                if row.event == "deletion_request" {
                    erase(&transaction, &row.app, &row.uid)?;
                    let fresh = transaction.execute(
                        "INSERT OR IGNORE INTO deletion_requests (event_id, app, day) VALUES (?1, ?2, ?3)",
                        params![row.event_id, row.app, row.day],
                    )?;
                    if forwarding && fresh == 1 {
                        transaction.execute(
                            "INSERT INTO forward_deletions (body) VALUES (?1)",
                            [record.to_string()],
                        )?;
                    }
                    continue;
                }
                if retention::is_expired(row.day, retention_days, today) {
                    retention::fold(&transaction, &row, record)?;
                    if row.is_install() {
                        install.execute(params![row.app, row.uid, row.day])?;
                    }
                    continue;
                }
                let changed = insert.execute(params![
                    row.event_id,
                    row.app,
                    row.event,
                    row.ts,
                    row.day,
                    row.uid,
                    row.ephemeral,
                    row.version,
                    row.os,
                    row.arch,
                    row.ci,
                    row.ci_provider,
                    row.ai_agent,
                    row.name,
                    row.action,
                    row.ok,
                    row.duration_ms,
                    row.error,
                    row.weight,
                    record.to_string(),
                ])?;
                if changed == 1 {
                    ingested.stored += 1;
                    if row.is_install() {
                        install.execute(params![row.app, row.uid, row.day])?;
                    }
                }
            }
        }
        transaction.commit()?;
        Ok(ingested)
    }

    /// Erases every record of one install (`user_uuid`), in every app or in
    /// one; returns how many records were erased.
    pub fn forget(&self, uid: &str, app: Option<&str>) -> Result<usize, StoreError> {
        let mut connection = self.writer();
        let transaction = connection.transaction()?;
        let apps: Vec<String> = match app {
            Some(app) => vec![app.to_owned()],
            None => {
                let mut statement = transaction.prepare(
                    "SELECT app FROM records WHERE uid = ?1 UNION SELECT app FROM installs WHERE uid = ?1
                     UNION SELECT app FROM agg_active WHERE uid = ?1",
                )?;
                let apps = statement
                    .query_map([uid], |row| row.get(0))?
                    .collect::<Result<_, _>>()?;
                apps
            }
        };
        let mut erased = 0;
        for app in &apps {
            erased += erase(&transaction, app, uid)?;
        }
        transaction.commit()?;
        Ok(erased)
    }

    /// Calls `each` with every stored record's JSON (as first stored) of
    /// `app` (or every app) whose day is in `from..=to`, ordered by
    /// `event_timestamp`, then `event_id`.
    pub fn export(
        &self,
        app: Option<&str>,
        from: i64,
        to: i64,
        mut each: impl FnMut(&str) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        let connection = self.reader();
        let mut statement = connection.prepare(
            "SELECT body FROM records
             WHERE (?1 IS NULL OR app = ?1) AND day BETWEEN ?2 AND ?3
             ORDER BY ts, event_id",
        )?;
        let mut rows = statement.query(params![app, from, to])?;
        while let Some(row) = rows.next()? {
            let body: String = row.get(0)?;
            each(&body).map_err(|error| StoreError::Sql(format!("cannot write: {error}")))?;
        }
        Ok(())
    }

    /// The apps that have records, by name.
    pub fn apps(&self) -> Result<Vec<String>, StoreError> {
        let connection = self.reader();
        let mut statement = connection.prepare("SELECT DISTINCT app FROM records ORDER BY app")?;
        let apps = statement
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(apps)
    }

    /// The stored record with this `event_id`, if any.
    pub fn record(&self, event_id: &str) -> Result<Option<Value>, StoreError> {
        let connection = self.reader();
        let body: Option<String> = connection
            .query_row(
                "SELECT body FROM records WHERE event_id = ?1",
                [event_id],
                |row| row.get(0),
            )
            .optional()?;
        Ok(body.and_then(|body| serde_json::from_str(&body).ok()))
    }
}

/// Erases one install's records, its installs row and its rows in the
/// aggregates (the counts it added stay: they hold no id) for one app.
fn erase(connection: &Connection, app: &str, uid: &str) -> rusqlite::Result<usize> {
    if uid.is_empty() {
        return Ok(0);
    }
    let erased = connection.execute(
        "DELETE FROM records WHERE app = ?1 AND uid = ?2",
        params![app, uid],
    )?;
    for table in ["installs", "agg_active", "agg_error_installs"] {
        connection.execute(
            &format!("DELETE FROM {table} WHERE app = ?1 AND uid = ?2"),
            params![app, uid],
        )?;
    }
    Ok(erased)
}
