//! Opening a database file: the checks that refuse a file that is not ours
//! or is newer than this binary, WAL mode, and the migrations
//! (`migrations/NNNN_name.sql`, applied in order; `PRAGMA user_version` is
//! the number applied).

use super::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Marks the file as this collector's (`PRAGMA application_id`): "TLMC".
pub const APPLICATION_ID: i64 = 0x544c_4d43;

/// Every migration, in order; the schema version is their count.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_records", include_str!("migrations/0001_records.sql")),
    (
        "0002_aggregates",
        include_str!("migrations/0002_aggregates.sql"),
    ),
    (
        "0003_forwarding",
        include_str!("migrations/0003_forwarding.sql"),
    ),
];

/// 32 MiB of page cache per connection (`PRAGMA cache_size`, negative: in
/// KiB; the default is 2 MiB): the views read rows of many days at once.
const PAGE_CACHE: i64 = -32_768;

/// Opens (and with `create`, creates) the database and brings its schema up
/// to date. Refuses, without writing to it, a file that is not a SQLite
/// database, one of another application, or one from a newer version.
pub fn open(path: &Path, create: bool) -> Result<Connection, StoreError> {
    let shown = path.display().to_string();
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    } else if !path.exists() {
        return Err(StoreError::Open(format!("{shown}: no such file")));
    }
    let connection = Connection::open_with_flags(path, flags)
        .map_err(|error| StoreError::Open(format!("{shown}: {error}")))?;
    let version = check(&connection, &shown)?;
    connection
        .pragma_update(None, "journal_mode", "WAL")
        .and_then(|()| connection.pragma_update(None, "synchronous", "NORMAL"))
        .and_then(|()| connection.pragma_update(None, "foreign_keys", "ON"))
        .and_then(|()| connection.pragma_update(None, "cache_size", PAGE_CACHE))
        .and_then(|()| connection.busy_timeout(std::time::Duration::from_secs(10)))
        .map_err(|error| StoreError::Open(format!("{shown}: {error}")))?;
    migrate(&connection, version).map_err(|error| StoreError::Open(format!("{shown}: {error}")))?;
    Ok(connection)
}

/// Opens an existing database for reading only (`report`): the same
/// refusals as [`open`], then no migration and no write of any kind. A file
/// whose schema is older than this binary's is refused too (`serve`
/// migrates it).
pub fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(StoreError::Open(format!("{shown}: no such file")));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let connection = Connection::open_with_flags(path, flags)
        .map_err(|error| StoreError::Open(format!("{shown}: {error}")))?;
    let version = check(&connection, &shown)?;
    let latest = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if version < latest {
        return Err(StoreError::Open(format!(
            "{shown} has schema version {version}, older than this collector's {latest}: \
             run `telemetry-collector serve --db {shown}` once to bring it up to date"
        )));
    }
    // A setting of this connection, not a write.
    connection
        .pragma_update(None, "cache_size", PAGE_CACHE)
        .and_then(|()| connection.busy_timeout(std::time::Duration::from_secs(10)))
        .map_err(|error| StoreError::Open(format!("{shown}: {error}")))?;
    Ok(connection)
}

/// The refusals both opens share: not a database, another application's,
/// or newer than this binary. Gives the schema version.
fn check(connection: &Connection, shown: &str) -> Result<i64, StoreError> {
    // Read before writing anything: a file that is not a database fails here.
    let (version, application, tables): (i64, i64, i64) = connection
        .query_row(
            "SELECT (SELECT user_version FROM pragma_user_version),
                    (SELECT application_id FROM pragma_application_id),
                    (SELECT count(*) FROM sqlite_master)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .map_err(|error| {
            StoreError::Open(format!(
                "{shown} is not a telemetry-collector database ({error}); it was left as it is"
            ))
        })?;
    if tables > 0 && application != APPLICATION_ID {
        return Err(StoreError::Open(format!(
            "{shown} is a SQLite database of another application; it was left as it is"
        )));
    }
    let latest = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if version > latest {
        return Err(StoreError::Open(format!(
            "{shown} has schema version {version}, newer than this collector's {latest}: \
             use a newer telemetry-collector (the file was left as it is)"
        )));
    }
    Ok(version)
}

fn migrate(connection: &Connection, from: i64) -> rusqlite::Result<()> {
    let start = usize::try_from(from).unwrap_or(0);
    for (index, (_, sql)) in MIGRATIONS.iter().enumerate().skip(start) {
        let transaction = connection.unchecked_transaction()?;
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "application_id", APPLICATION_ID)?;
        transaction.pragma_update(None, "user_version", index + 1)?;
        transaction.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    #[test]
    fn every_migration_file_is_applied_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|(name, _)| format!("{name}.sql"))
            .collect();
        assert_eq!(files, listed);
    }
}
