//! Every retry and back-off rule, in one place (the model: sentry's
//! `transports/ratelimit.rs`).
//!
//! | the collector's answer | what follows |
//! |---|---|
//! | 2xx | delivered; a back-off in force for this endpoint is lifted (its file removed) |
//! | 429, 502, 503, 504 (the statuses the OTLP/HTTP specification calls retryable) | retried once in the request's deadline when `Retry-After` fits in it; else the collector asked to wait: a back-off until `Retry-After` (seconds or an HTTP date), or, without one, an exponential wait with jitter |
//! | any other 4xx or 5xx | refused for good: the records are dropped and counted (`rejected`), never sent again; no back-off |
//! | no answer (refused, timed out, DNS, reset) | the sender stops for the process, and the same exponential back-off is written |
//!
//! The back-off outlives the process: the earliest time to try again is
//! written to the config dir ([`crate::files::backoff_file`]), at most
//! [`MAX_WAIT`] ahead whatever the server says. A later process before that
//! time opens no connection to that endpoint: background delivery keeps its
//! records in the spool, inline delivery drops them and counts them
//! (`backoff`). The first process after the time sends, and background
//! delivery sends the spool first. The file is about one endpoint (a hash
//! of its URL): a client pointed at another collector is not held back.
//!
//! Without `Retry-After`, the n-th failure in a row waits
//! `FIRST_WAIT × 2^(n-1)` (capped at [`MAX_WAIT`]), of which a random
//! part of up to half is taken off ("equal jitter"), so that many clients
//! that failed together do not come back together.

// Without `http` nothing is sent, so nothing backs off or is compressed.
#![cfg_attr(not(feature = "http"), allow(dead_code))]

use crate::files::backoff_file::{self, Saved};
use crate::record::calendar::{civil_from_days, days_from_civil};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest wait, whatever the server asks: one hour.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(3600);

/// The first wait after a failure without `Retry-After`.
pub(crate) const FIRST_WAIT: Duration = Duration::from_secs(1);

/// Whether an answer with this status may be sent again later: 429, 502,
/// 503 and 504, as the OTLP/HTTP specification says.
pub(crate) fn retryable(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Whether the collector refused the records for good: any other 4xx or
/// 5xx. Sending them again cannot succeed.
pub(crate) fn refused_for_good(status: u16) -> bool {
    (400..600).contains(&status) && !retryable(status)
}

/// A `Retry-After` value as a wait from `now`: seconds, or an HTTP date
/// (IMF-fixdate, RFC 850 or asctime form); a date already past is zero.
/// At most [`MAX_WAIT`]; `None` when the value is neither.
pub(crate) fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let text = value.trim();
    if text.is_empty() {
        return None;
    }
    let wait = if text.bytes().all(|byte| byte.is_ascii_digit()) {
        Duration::from_secs(text.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = UNIX_EPOCH + Duration::from_secs(http_date(text)?);
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_WAIT))
}

/// The wait after the `failures`-th failure in a row without
/// `Retry-After`; `random` picks the jitter.
pub(crate) fn exponential(failures: u32, random: u64) -> Duration {
    let exponent = failures.saturating_sub(1).min(31);
    let full = FIRST_WAIT.saturating_mul(1 << exponent).min(MAX_WAIT);
    let millis = u64::try_from(full.as_millis()).unwrap_or(u64::MAX);
    let half = millis / 2;
    Duration::from_millis(millis - random % (half + 1))
}

/// The back-off of one sink: in memory, and in the config dir's file once
/// [`attach`](Backoff::attach)ed.
#[derive(Debug)]
pub(crate) struct Backoff {
    endpoint_key: u64,
    dir: OnceLock<PathBuf>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    until_ms: u64,
    failures: u32,
    /// The file may hold a back-off for this endpoint.
    in_file: bool,
}

impl Backoff {
    /// No back-off yet, for the sink that posts to `endpoint`.
    pub(crate) fn new(endpoint: &str) -> Backoff {
        Backoff {
            endpoint_key: endpoint_key(endpoint),
            dir: OnceLock::new(),
            state: Mutex::new(State::default()),
        }
    }

    /// Reads and from now on writes the back-off file of `config_dir`
    /// (once; a second call is ignored).
    pub(crate) fn attach(&self, config_dir: &Path) {
        if self.dir.set(config_dir.to_owned()).is_err() {
            return;
        }
        if let Some(saved) = backoff_file::read(config_dir) {
            if saved.endpoint_key == self.endpoint_key {
                let mut state = self.state();
                state.until_ms = saved.until_ms.min(now_ms().saturating_add(max_wait_ms()));
                state.failures = saved.failures;
                state.in_file = true;
            }
        }
    }

    /// The time (epoch ms) before which nothing may be sent, while it is
    /// in the future.
    pub(crate) fn waiting_until(&self) -> Option<u64> {
        let until = self.state().until_ms;
        (until > now_ms()).then_some(until)
    }

    /// The collector asked to wait (`retry_after`, when it said how long),
    /// or could not be reached (`None`): sets and saves the time to try
    /// again; returns it (epoch ms).
    pub(crate) fn asked_to_wait(&self, retry_after: Option<Duration>) -> u64 {
        let mut state = self.state();
        state.failures = state.failures.saturating_add(1);
        let random = u64::try_from(crate::record::random::uuid_v4() >> 64).unwrap_or(0);
        let wait = retry_after
            .unwrap_or_else(|| exponential(state.failures, random))
            .min(MAX_WAIT);
        let until = now_ms().saturating_add(u64::try_from(wait.as_millis()).unwrap_or(0));
        // Another thread may have set a later time already.
        state.until_ms = state.until_ms.max(until);
        let saved = Saved {
            until_ms: state.until_ms,
            failures: state.failures,
            endpoint_key: self.endpoint_key,
        };
        if let Some(dir) = self.dir.get() {
            backoff_file::write(dir, saved);
            state.in_file = true;
        }
        state.until_ms
    }

    /// The collector accepted a request: the back-off is over.
    pub(crate) fn succeeded(&self) {
        let mut state = self.state();
        if state.failures == 0 && !state.in_file {
            return;
        }
        *state = State::default();
        if let Some(dir) = self.dir.get() {
            backoff_file::remove(dir);
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The back-off in force in `config_dir` for `endpoint` (as configured),
/// for the decision that `status` shows: the time (epoch ms) until which
/// the collector asked to wait, while it is in the future.
pub(crate) fn saved_wait(config_dir: &Path, endpoint: &str) -> Option<u64> {
    let saved = backoff_file::read(config_dir)?;
    if saved.endpoint_key != endpoint_key(endpoint) {
        return None;
    }
    let until = saved.until_ms.min(now_ms().saturating_add(max_wait_ms()));
    (until > now_ms()).then_some(until)
}

/// `until_ms` as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn format_utc(until_ms: u64) -> String {
    let secs = until_ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

fn max_wait_ms() -> u64 {
    u64::try_from(MAX_WAIT.as_millis()).unwrap_or(u64::MAX)
}

/// FNV-1a of the endpoint: tells endpoints apart without keeping the URL
/// (which may carry a token) on disk.
fn endpoint_key(endpoint: &str) -> u64 {
    endpoint
        .trim()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

/// An HTTP date (RFC 9110 §5.6.7: IMF-fixdate, RFC 850, asctime) as
/// seconds since the epoch.
fn http_date(text: &str) -> Option<u64> {
    let (day, month, year, time) = if let Some((_, rest)) = text.split_once(',') {
        // "Sun, 06 Nov 1994 08:49:37 GMT" or "Sunday, 06-Nov-94 08:49:37 GMT"
        let rest = rest.replace('-', " ");
        let words: Vec<&str> = rest.split_ascii_whitespace().collect();
        let [day, month, year, time, "GMT"] = words.as_slice() else {
            return None;
        };
        let year: u64 = year.parse().ok()?;
        let year = match (year, words[2].len()) {
            (yy, 2) if yy < 70 => 2000 + yy,
            (yy, 2) => 1900 + yy,
            (yyyy, 4) => yyyy,
            _ => return None,
        };
        (
            day.parse::<u64>().ok()?,
            month_number(month)?,
            year,
            clock(time)?,
        )
    } else {
        // "Sun Nov  6 08:49:37 1994"
        let words: Vec<&str> = text.split_ascii_whitespace().collect();
        let [_, month, day, time, year] = words.as_slice() else {
            return None;
        };
        (
            day.parse().ok()?,
            month_number(month)?,
            year.parse().ok()?,
            clock(time)?,
        )
    };
    let (hour, minute, second) = time;
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 || year < 1970 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// `Jan` → 1 ... `Dec` → 12.
fn month_number(name: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let index = MONTHS.iter().position(|month| *month == name)?;
    u64::try_from(index + 1).ok()
}

/// `HH:MM:SS`.
fn clock(time: &str) -> Option<(u64, u64, u64)> {
    let mut parts = time.split(':').map(|part| part.parse::<u64>().ok());
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(Some(hour)), Some(Some(minute)), Some(Some(second)), None) => {
            Some((hour, minute, second))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_specifications_statuses_are_retried() {
        for status in [429, 502, 503, 504] {
            assert!(retryable(status) && !refused_for_good(status), "{status}");
        }
        for status in [400, 401, 403, 404, 408, 413, 500, 501, 505] {
            assert!(!retryable(status) && refused_for_good(status), "{status}");
        }
        assert!(!refused_for_good(200) && !refused_for_good(302));
    }

    #[test]
    fn retry_after_in_seconds_and_as_an_http_date() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(retry_after("99999999999999999999999", now), Some(MAX_WAIT));
        for date in [
            "Sun, 06 Nov 1994 08:49:47 GMT",
            "Sunday, 06-Nov-94 08:49:47 GMT",
            "Sun Nov  6 08:49:47 1994",
        ] {
            assert_eq!(
                retry_after(date, now),
                Some(Duration::from_secs(10)),
                "{date}"
            );
        }
        assert_eq!(
            retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after("Mon, 06 Nov 1995 08:49:37 GMT", now),
            Some(MAX_WAIT)
        );
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
        ] {
            assert_eq!(retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(format_utc(784_111_777_000), "1994-11-06 08:49:37 UTC");
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn waits_grow_exponentially_with_jitter_up_to_the_cap() {
        for (failures, full) in [(1, 1), (2, 2), (3, 4), (10, 512), (13, 3600), (40, 3600)] {
            let full = Duration::from_secs(full);
            assert_eq!(exponential(failures, 0), full, "{failures}");
            let least = exponential(failures, u64::MAX);
            assert!(least >= full / 2 && least <= full, "{failures}: {least:?}");
        }
    }

    #[test]
    fn a_back_off_is_saved_bounded_and_lifted() {
        let dir = crate::test_support::temp_dir("backoff");
        let first = Backoff::new("http://127.0.0.1:9/v1/events");
        first.attach(&dir);
        assert_eq!(first.waiting_until(), None);
        let until = first.asked_to_wait(Some(Duration::from_secs(3)));
        assert!(until > now_ms() + 2_000 && until <= now_ms() + 3_000);
        assert_eq!(
            saved_wait(&dir, "http://127.0.0.1:9/v1/events"),
            Some(until)
        );
        assert_eq!(saved_wait(&dir, "http://127.0.0.1:10/v1/events"), None);
        // A later process, same endpoint: held back; another endpoint: not.
        let later = Backoff::new("http://127.0.0.1:9/v1/events");
        later.attach(&dir);
        assert_eq!(later.waiting_until(), Some(until));
        let other = Backoff::new("http://127.0.0.1:10/v1/events");
        other.attach(&dir);
        assert_eq!(other.waiting_until(), None);
        // Never more than an hour ahead, whatever the file says.
        backoff_file::write(
            &dir,
            Saved {
                until_ms: u64::MAX,
                failures: 1,
                endpoint_key: endpoint_key("http://127.0.0.1:9/v1/events"),
            },
        );
        let bounded = Backoff::new("http://127.0.0.1:9/v1/events");
        bounded.attach(&dir);
        let until = bounded.waiting_until().unwrap();
        assert!(until <= now_ms() + max_wait_ms());
        bounded.succeeded();
        assert_eq!(bounded.waiting_until(), None);
        assert_eq!(saved_wait(&dir, "http://127.0.0.1:9/v1/events"), None);
    }
}
