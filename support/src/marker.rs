//! Making a second run a *later* run: the toolkit sends only when the
//! notice marker existed before the process started, so a test that runs
//! twice either dates the marker back (runs that are clients built in this
//! one process) or waits until the marker is old enough (runs that are
//! processes started afterwards).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use telemetry_core::NOTICE_MARKER_FILE;

/// Dates the notice marker in `config_dir` an hour back, as a later process
/// would find it: the clients a test builds next in this process then count
/// as later runs. Panics if there is no marker.
pub fn date_back_marker(config_dir: &Path) {
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(config_dir.join(NOTICE_MARKER_FILE))
        .and_then(|marker| marker.set_modified(an_hour_ago))
        .expect("the notice marker exists and can be dated back");
}

/// Waits until `marker` is older than the toolkit's uncertainty about file
/// times and process starts (10 ms ticks; whole seconds on some file
/// systems), so that a process started next counts as a later run. Panics
/// if there is no marker.
pub fn wait_until_older_than_any_later_start(marker: &Path) {
    try_wait_until_older_than_any_later_start(marker).expect("the notice marker exists");
}

/// [`wait_until_older_than_any_later_start`], returning the error (no
/// marker) instead of panicking.
pub fn try_wait_until_older_than_any_later_start(marker: &Path) -> std::io::Result<()> {
    let modified = std::fs::metadata(marker).and_then(|metadata| metadata.modified())?;
    let whole_seconds = modified
        .duration_since(UNIX_EPOCH)
        .map_or(true, |since| since.subsec_nanos() == 0);
    let age = if whole_seconds {
        Duration::from_millis(2100)
    } else {
        Duration::from_millis(100)
    };
    while SystemTime::now() < modified + age {
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}
