//! What `serve`'s flags become, and the rules on them: the listen/token rule
//! lives here, once.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default database file.
pub const DEFAULT_DB: &str = "telemetry.db";
/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4318";
/// The default retention of raw records, in days.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

/// `serve`'s settings, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The database file (created if absent).
    pub db: PathBuf,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Raw records older than this many days are removed (0: kept for ever).
    pub retention_days: u32,
    /// Ingest keys: app → the keys its records must carry in `x-api-key`.
    pub ingest_keys: BTreeMap<String, Vec<String>>,
    /// The bearer token reads need (required off loopback).
    pub token: Option<String>,
    /// Where to forward every stored record as OTLP/HTTP JSON.
    pub forward_otlp: Option<String>,
    /// How long a request's head and body may take to arrive (default
    /// [`REQUEST_DEADLINE`](crate::server::REQUEST_DEADLINE)); a connection
    /// that misses it is closed unanswered.
    pub request_timeout: Duration,
}

/// `serve`'s flags, each with a value (`--name value` or `--name=value`).
pub const FLAGS: [&str; 7] = [
    "--db",
    "--listen",
    "--retention-days",
    "--ingest-keys",
    "--token-file",
    "--forward-otlp",
    "--request-timeout",
];

impl Settings {
    /// Checks `serve`'s flags as given (name and value pairs, names from
    /// [`FLAGS`]; of a flag given twice, the last counts) and reads the
    /// files they name. Off loopback, `--token-file` is required: the API
    /// would otherwise be open to the network.
    pub fn from_flags<S: AsRef<str>>(given: &[(S, S)]) -> Result<Settings, String> {
        if let Some((name, _)) = given
            .iter()
            .find(|(name, _)| !FLAGS.contains(&name.as_ref()))
        {
            return Err(format!(
                "unknown flag {:?} (serve takes {})",
                name.as_ref(),
                FLAGS.join(", ")
            ));
        }
        let flag = |name: &str| {
            given
                .iter()
                .rev()
                .find(|(given, _)| given.as_ref() == name)
                .map(|(_, value)| value.as_ref())
        };
        let retention_days = flag("--retention-days")
            .map(|value| {
                value
                    .parse()
                    .map_err(|_| format!("--retention-days {value:?}: give a whole number of days"))
            })
            .transpose()?;
        let listen_text = flag("--listen").unwrap_or(DEFAULT_LISTEN);
        let addresses: Vec<SocketAddr> = listen_text
            .to_socket_addrs()
            .map_err(|error| format!("--listen {listen_text}: not an address ({error})"))?
            .collect();
        let listen = *addresses
            .first()
            .ok_or_else(|| format!("--listen {listen_text}: not an address"))?;
        let loopback = addresses.iter().all(|address| address.ip().is_loopback());
        let token = flag("--token-file")
            .map(|path| read_token(Path::new(path)))
            .transpose()?;
        if !loopback && token.is_none() {
            return Err(format!(
                "--listen {listen_text} is not a loopback address: the API would be open to the \
                 network; give --token-file FILE (reads then need Authorization: Bearer TOKEN)"
            ));
        }
        let ingest_keys = match flag("--ingest-keys") {
            Some(path) => read_ingest_keys(Path::new(path))?,
            None => BTreeMap::new(),
        };
        let forward_otlp = flag("--forward-otlp").map(str::to_owned);
        if let Some(url) = &forward_otlp {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "--forward-otlp {url}: give the OpenTelemetry Collector's http:// or https:// URL"
                ));
            }
        }
        let request_timeout = match flag("--request-timeout") {
            Some(value) => match value.parse::<u64>() {
                Ok(seconds @ 1..=3600) => Duration::from_secs(seconds),
                _ => {
                    return Err(format!(
                        "--request-timeout {value:?}: give a whole number of seconds from 1 to 3600"
                    ))
                }
            },
            None => crate::server::REQUEST_DEADLINE,
        };
        Ok(Settings {
            db: PathBuf::from(flag("--db").unwrap_or(DEFAULT_DB)),
            listen,
            retention_days: retention_days.unwrap_or(DEFAULT_RETENTION_DAYS),
            ingest_keys,
            token,
            forward_otlp,
            request_timeout,
        })
    }
}

fn read_token(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("--token-file {}: {error}", path.display()))?;
    let token = text.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(format!(
            "--token-file {}: the file must hold one token (no spaces)",
            path.display()
        ));
    }
    Ok(token.to_owned())
}

/// Reads `APP KEY` lines (blank lines and `#` comments skipped).
fn read_ingest_keys(path: &Path) -> Result<BTreeMap<String, Vec<String>>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("--ingest-keys {}: {error}", path.display()))?;
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(app), Some(key), None) = (words.next(), words.next(), words.next()) else {
            return Err(format!(
                "--ingest-keys {}: line {} is not `APP KEY`",
                path.display(),
                number + 1
            ));
        };
        keys.entry(app.to_owned()).or_default().push(key.to_owned());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_loopback_a_token_is_required() {
        let error = Settings::from_flags(&[("--listen", "0.0.0.0:0")]).unwrap_err();
        assert!(error.contains("--token-file"), "{error}");
        let settings = Settings::from_flags::<&str>(&[]).unwrap();
        assert_eq!(settings.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(settings.retention_days, 365);
        assert_eq!(settings.db, PathBuf::from("telemetry.db"));
    }

    #[test]
    fn the_last_of_a_flag_counts_and_bad_values_are_refused() {
        let settings = Settings::from_flags(&[
            ("--retention-days", "7"),
            ("--db", "a.db"),
            ("--retention-days", "30"),
        ])
        .unwrap();
        assert_eq!((settings.retention_days, settings.db), (30, "a.db".into()));
        assert_eq!(settings.request_timeout, crate::server::REQUEST_DEADLINE);
        let quick = Settings::from_flags(&[("--request-timeout", "3")]).unwrap();
        assert_eq!(quick.request_timeout, Duration::from_secs(3));
        for (name, value, said) in [
            ("--retention-days", "a year", "whole number"),
            ("--request-timeout", "0", "1 to 3600"),
            ("--request-timeout", "2.5", "whole number of seconds"),
            ("--forward-otlp", "ftp://x", "http://"),
            ("--port", "1", "unknown flag"),
        ] {
            let error = Settings::from_flags(&[(name, value)]).unwrap_err();
            assert!(error.contains(said), "{name} {value}: {error}");
        }
    }
}
