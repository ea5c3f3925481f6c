//! `--forward-otlp URL`: every stored record, in the order received (across
//! requests), sent as OTLP/HTTP JSON (gzip) to an OpenTelemetry Collector,
//! from a cursor kept in the store. The cursor moves only after a 2xx, so
//! an outage of the downstream delays records and never loses them (each
//! `event_id` arrives at least once; after a crash between the answer and
//! the cursor's commit, a batch arrives twice). Deletion requests are
//! forwarded too, from their own queue, so that the store behind can erase
//! the install as well. The mapping is the toolkit's own
//! (`telemetry_core::otlp`).
//!
//! Records folded on arrival (already past retention) are not stored raw
//! and so not forwarded; a raw record removed by retention or by a deletion
//! before it was forwarded is not forwarded either.

use super::{Store, StoreError};
use flate2::write::GzEncoder;
use flate2::Compression;
use rusqlite::params;
use serde_json::Value;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

/// Records per request.
pub const BATCH: usize = 500;
/// The longest wait between two attempts while the downstream fails.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The wait before the first retry.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The two streams and their tables.
const STREAMS: [(&str, &str); 2] = [("records", "bodies"), ("deletions", "forward_deletions")];

/// Wakes the forwarder when a request committed new records.
#[derive(Default)]
pub struct Wake {
    pending: Mutex<bool>,
    changed: Condvar,
}

impl Wake {
    /// New records are there.
    pub fn notify(&self) {
        *self.pending.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.changed.notify_all();
    }

    /// Waits for a notification or `timeout`.
    fn wait(&self, timeout: Duration) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if !*pending {
            pending = self
                .changed
                .wait_timeout(pending, timeout)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *pending = false;
    }
}

/// The OTLP logs URL for a collector's base URL (a URL that already ends
/// in `/v1/logs` is used as it is), as the toolkit's OTLP sink does.
pub fn logs_url(base: &str) -> String {
    if base.trim_end_matches('/').ends_with("/v1/logs") {
        base.to_owned()
    } else {
        format!("{}/v1/logs", base.trim_end_matches('/'))
    }
}

/// Forwards until `stop` is set.
pub fn run(store: &Store, base_url: &str, wake: &Arc<Wake>, stop: &AtomicBool) {
    let url = logs_url(base_url);
    let client = match reqwest::blocking::Client::builder()
        .timeout(TIMEOUT)
        .user_agent(concat!("telemetry-collector/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            eprintln!("telemetry-collector: forwarding is off: {error}");
            return;
        }
    };
    let mut backoff = FIRST_BACKOFF;
    while !stop.load(Ordering::SeqCst) {
        match forward_once(store, &client, &url) {
            Ok(0) => {
                backoff = FIRST_BACKOFF;
                wake.wait(Duration::from_secs(1));
            }
            Ok(_) => backoff = FIRST_BACKOFF,
            Err(reason) => {
                eprintln!(
                    "telemetry-collector: forwarding failed ({reason}); retrying in {:.1} s",
                    backoff.as_secs_f64()
                );
                wake.wait(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Sends the next batch of each stream; returns how many records went.
fn forward_once(
    store: &Store,
    client: &reqwest::blocking::Client,
    url: &str,
) -> Result<usize, String> {
    let mut sent = 0;
    for (stream, table) in STREAMS {
        let batch = next_batch(store, stream, table).map_err(|error| error.to_string())?;
        let Some(&(last, _)) = batch.last() else {
            continue;
        };
        let records: Vec<Value> = batch
            .iter()
            .filter_map(|(_, body)| serde_json::from_str(body).ok())
            .collect();
        send(client, url, &records)?;
        advance(store, stream, last).map_err(|error| error.to_string())?;
        sent += batch.len();
    }
    Ok(sent)
}

fn next_batch(store: &Store, stream: &str, table: &str) -> Result<Vec<(i64, String)>, StoreError> {
    let connection = store.reader();
    let cursor: i64 = connection.query_row(
        "SELECT coalesce((SELECT seq FROM forward_cursor WHERE stream = ?1), 0)",
        [stream],
        |row| row.get(0),
    )?;
    let mut statement = connection.prepare_cached(&format!(
        "SELECT seq, body FROM {table} WHERE seq > ?1 ORDER BY seq LIMIT ?2"
    ))?;
    let batch = statement
        .query_map(params![cursor, BATCH], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(batch)
}

fn advance(store: &Store, stream: &str, seq: i64) -> Result<(), StoreError> {
    let connection = store.writer();
    connection.execute(
        "INSERT INTO forward_cursor (stream, seq) VALUES (?1, ?2)
         ON CONFLICT (stream) DO UPDATE SET seq = max(seq, excluded.seq)",
        params![stream, seq],
    )?;
    if stream == "deletions" {
        connection.execute("DELETE FROM forward_deletions WHERE seq <= ?1", [seq])?;
    }
    Ok(())
}

fn send(client: &reqwest::blocking::Client, url: &str, records: &[Value]) -> Result<(), String> {
    let body = telemetry_core::otlp::export_logs_request(records).to_string();
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder
        .write_all(body.as_bytes())
        .map_err(|error| error.to_string())?;
    let gzipped = encoder.finish().map_err(|error| error.to_string())?;
    let response = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(gzipped)
        .send()
        .map_err(|error| {
            if error.is_timeout() {
                "no answer in time".to_owned()
            } else if error.is_connect() {
                "cannot connect".to_owned()
            } else {
                "the request failed".to_owned()
            }
        })?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the collector answered {}", status.as_u16()))
    }
}

#[cfg(test)]
mod tests {
    use super::logs_url;

    #[test]
    fn the_logs_path_is_added_once() {
        for (base, url) in [
            ("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/logs"),
            ("http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/logs"),
            ("http://h/v1/logs", "http://h/v1/logs"),
        ] {
            assert_eq!(logs_url(base), url, "{base}");
        }
    }
}
