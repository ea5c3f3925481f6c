//! Whether a file existed before this process started: the rule that a
//! process sends only if the notice marker predates it.
//!
//! On Linux the start is read from `/proc/self/stat` (`starttime`, in clock
//! ticks since boot) and placed on the wall clock through `CLOCK_BOOTTIME`
//! and `CLOCK_REALTIME` read now. Every uncertainty counts against sending:
//!
//! - `starttime` is cut down to a whole tick (10 ms at the usual 100 Hz), so
//!   the earliest moment the process may have started is used;
//! - a file's modification time comes from the kernel's coarse clock, which
//!   may lag the real moment by one kernel tick (at most 10 ms, since the
//!   kernel runs at 100 Hz or faster): [`FILE_TIME_SLACK`] is added to it;
//! - a time with no sub-second part is taken to come from a file system that
//!   keeps whole seconds (or two, for FAT): [`COARSE_FILE_TIME_SLACK`].
//!
//! So a run started less than about 20 ms after the marker was created holds
//! its events, though it may in fact have started after the marker.
//!
//! Elsewhere (or when `/proc` is not mounted) the start is not known; the
//! approximation is that the process started [`FALLBACK_START_BEFORE_FIRST_USE`]
//! before the first client was built. Clients are usually built as a program
//! starts, and processes started together then hold their events; a program
//! that builds its client long after it started may send in a run during
//! which another process showed the notice.
//!
//! A wall-clock step between the marker's creation and this check moves the
//! comparison by the size of the step.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How much later than its recorded modification time a file may have been
/// created, on a file system with sub-second times.
pub(crate) const FILE_TIME_SLACK: Duration = Duration::from_millis(10);

/// The same for a file system that keeps whole seconds (FAT: two).
pub(crate) const COARSE_FILE_TIME_SLACK: Duration = Duration::from_secs(2);

/// Where the process start is unknown: how long before the first client was
/// built the process is assumed to have started.
pub(crate) const FALLBACK_START_BEFORE_FIRST_USE: Duration = Duration::from_secs(2);

/// `true` only when a file last modified at `modified` certainly existed
/// before this process started.
pub(crate) fn predates_this_process(modified: SystemTime) -> bool {
    let whole_seconds = modified
        .duration_since(UNIX_EPOCH)
        .map_or(true, |since| since.subsec_nanos() == 0);
    let slack = if whole_seconds {
        COARSE_FILE_TIME_SLACK
    } else {
        FILE_TIME_SLACK
    };
    match modified.checked_add(slack) {
        Some(latest_creation) => latest_creation < earliest_start(),
        None => false,
    }
}

/// The earliest moment at which this process may have started, computed
/// once.
pub(crate) fn earliest_start() -> SystemTime {
    static START: OnceLock<SystemTime> = OnceLock::new();
    *START.get_or_init(|| {
        start_from_proc().unwrap_or_else(|| {
            let now = SystemTime::now();
            now.checked_sub(FALLBACK_START_BEFORE_FIRST_USE)
                .unwrap_or(now)
        })
    })
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn start_from_proc() -> Option<SystemTime> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let ticks = start_ticks(&stat)?;
    // SAFETY: `sysconf` has no preconditions.
    let hz = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).ok()?;
    if hz == 0 {
        return None;
    }
    // The wall clock first, then the boot clock: the time elapsed since the
    // start then comes out slightly long, and the start slightly early.
    let real = clock(libc::CLOCK_REALTIME)?;
    let boot = clock(libc::CLOCK_BOOTTIME)?;
    let start_since_boot = Duration::from_nanos(
        u64::try_from(u128::from(ticks) * 1_000_000_000 / u128::from(hz)).ok()?,
    );
    let elapsed = boot.checked_sub(start_since_boot)?;
    UNIX_EPOCH.checked_add(real.checked_sub(elapsed)?)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn start_from_proc() -> Option<SystemTime> {
    None
}

/// Field 22 of `/proc/<pid>/stat`, `starttime`. The command name (field 2)
/// may hold spaces and parentheses, so fields are counted after its last `)`.
fn start_ticks(stat: &str) -> Option<u64> {
    let (_, after_name) = stat.rsplit_once(')')?;
    // After the name come field 3 (state) onwards: field 22 is the 20th.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn clock(id: libc::clockid_t) -> Option<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec`.
    if unsafe { libc::clock_gettime(id, &raw mut now) } != 0 {
        return None;
    }
    Some(Duration::new(
        u64::try_from(now.tv_sec).ok()?,
        u32::try_from(now.tv_nsec).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starttime_is_field_22_even_with_parentheses_in_the_name() {
        let stat =
            "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(start_ticks(stat), Some(987_654));
        assert_eq!(start_ticks("garbage"), None);
        assert_eq!(start_ticks("1 (x) S 1"), None);
    }

    #[test]
    fn files_made_before_the_start_predate_it_and_files_made_now_do_not() {
        let start = earliest_start();
        let now = SystemTime::now();
        assert!(start <= now);
        // A file made now, and one made just before the start within the
        // uncertainty, do not predate this process; an older one does.
        assert!(!predates_this_process(now));
        assert!(!predates_this_process(start - Duration::from_millis(5)));
        assert!(predates_this_process(
            start - Duration::from_millis(50) + Duration::from_nanos(1)
        ));
        // A whole-second time gets two seconds of slack.
        let whole = UNIX_EPOCH
            + Duration::from_secs(
                (start - Duration::from_secs(1))
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_secs(),
            );
        assert!(!predates_this_process(whole));
        assert!(predates_this_process(whole - Duration::from_secs(3)));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_start_read_from_proc_is_in_the_past() {
        let start = start_from_proc().expect("/proc/self/stat is readable");
        assert!(start <= SystemTime::now());
    }
}
