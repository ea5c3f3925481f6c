//! The notice marker, `telemetry-notice-shown` in the config dir: it
//! records that the first-run notice was shown. A process sends only if the
//! marker existed before it started ([`process_start`]), or if the marker
//! is dated later than now: a clock stepped back, or files copied from a
//! machine whose clock ran ahead. A marker made by a run started at the
//! same time is never in the future, so that rule lets no such run send.
//!
//! The marker keeps the notice's version that was shown, as a decimal
//! number; an empty marker (or one that does not hold a number, or is not
//! a file) counts as version 1. When the app raises its notice version
//! past the one kept, the notice is shown once more (with the app's line on
//! what changed) and the marker rewritten (temp-then-rename) with the new
//! version; that run holds its records, as a first run does.

use crate::files::config_dir::{CheckedConfigDir, ConfigDirRefused, ConfigItem};
use crate::files::Refusal;
use crate::files::{self, process_start};
use std::fs;
use std::io::{ErrorKind, Read};
use std::path::Path;
use std::time::SystemTime;

/// The marker recording that the first-run notice was shown.
pub const NOTICE_MARKER_FILE: &str = "telemetry-notice-shown";

/// How the first-run notice stands for this config dir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoticeMarker {
    /// The marker existed before this process started: the notice was shown
    /// by an earlier run, and this run may send.
    AlreadyShown,
    /// This run created the marker: show the notice now (and send nothing).
    ShowNow,
    /// The marker kept an older notice version (`seen`), and this run wrote
    /// the new one: show the notice again, with what changed (and send
    /// nothing).
    ShowChanged {
        /// The version the user saw before.
        seen: u32,
    },
    /// Another process created the marker after this one started (runs
    /// started together): it showed the notice, this run does not show it
    /// again, and sends nothing.
    ShownToAnotherRun,
    /// The marker cannot be written: show the notice, and since the next run
    /// will not know it was shown, every run shows it and sends nothing.
    ShowEveryRun,
}

/// Whether a marker last modified at `modified` means that the notice was
/// shown before this run: it predates this process, or lies in the future.
fn counts_as_seen(modified: SystemTime) -> bool {
    process_start::predates_this_process(modified) || modified > SystemTime::now()
}

/// Looks at the marker without creating it: whether the notice of
/// `version` counts as seen (`false` when missing or older), or why it is
/// refused.
pub(crate) fn inspect(dir: &Path, version: u32) -> Result<bool, Refusal> {
    match fs::symlink_metadata(dir.join(NOTICE_MARKER_FILE)) {
        Ok(marker) => {
            files::check_metadata(&marker)?;
            Ok(marker.modified().is_ok_and(counts_as_seen) && version_kept(dir) >= version)
        }
        Err(_) => Ok(false),
    }
}

/// The notice version the marker in `dir` keeps; `None` when there is no
/// marker.
pub(crate) fn version_seen(dir: &Path) -> Option<u32> {
    fs::symlink_metadata(dir.join(NOTICE_MARKER_FILE))
        .ok()
        .map(|_| version_kept(dir))
}

/// The version in the marker: 1 unless it is a file of ours holding a
/// number (read without following a link or blocking, at most 16 bytes).
fn version_kept(dir: &Path) -> u32 {
    let Ok(file) = files::open_file(&dir.join(NOTICE_MARKER_FILE)) else {
        return 1;
    };
    let mut bytes = Vec::new();
    if file.take(16).read_to_end(&mut bytes).is_err() {
        return 1;
    }
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| text.trim().parse::<u32>().ok())
        .map_or(1, |version| version.max(1))
}

/// Checks for the marker and creates it atomically (`O_EXCL`) if absent; a
/// marker that is a link, not ours or writable by others is refused.
///
/// The marker is never opened or read, only its presence and its times
/// count: it is looked at with `lstat` (which neither follows a link nor
/// blocks), and anything of ours there (a file, unreadable or not, or a
/// dir) means that the notice was shown, when it was made.
///
/// A marker of ours that predates this run but keeps a version below
/// `version` is rewritten with `version`: [`NoticeMarker::ShowChanged`].
pub(crate) fn claim_notice(
    dir: Option<&CheckedConfigDir>,
    version: u32,
) -> Result<NoticeMarker, ConfigDirRefused> {
    let Some(dir) = dir else {
        return Ok(NoticeMarker::ShowEveryRun);
    };
    let path = dir.path().join(NOTICE_MARKER_FILE);
    for _ in 0..2 {
        match fs::symlink_metadata(&path) {
            Ok(marker) => {
                if let Err(why) = files::check_metadata(&marker) {
                    return Err(ConfigDirRefused {
                        item: ConfigItem::NoticeMarker,
                        why,
                    });
                }
                if !marker.modified().is_ok_and(counts_as_seen) {
                    // Made (or rewritten) since this run started: another
                    // run showed the notice, whichever version.
                    return Ok(NoticeMarker::ShownToAnotherRun);
                }
                let seen = version_kept(dir.path());
                if seen >= version {
                    return Ok(NoticeMarker::AlreadyShown);
                }
                let text = format!("{version}\n");
                return Ok(
                    match files::replace(dir.path(), NOTICE_MARKER_FILE, text.as_bytes()) {
                        Ok(()) => NoticeMarker::ShowChanged { seen },
                        Err(_) => NoticeMarker::ShowEveryRun,
                    },
                );
            }
            Err(error) if error.kind() == ErrorKind::NotFound => {
                match files::create_new(&path) {
                    Ok(mut file) => {
                        // Version 1 is the empty marker of earlier releases.
                        if version > 1 {
                            use std::io::Write;
                            let _ = writeln!(file, "{version}");
                        }
                        return Ok(NoticeMarker::ShowNow);
                    }
                    // Another process created it between our look and now:
                    // look again.
                    Err(error) if error.kind() == ErrorKind::AlreadyExists => {}
                    Err(_) => return Ok(NoticeMarker::ShowEveryRun),
                }
            }
            Err(_) => return Ok(NoticeMarker::ShowEveryRun),
        }
    }
    Ok(NoticeMarker::ShowEveryRun)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::config_dir::open_config_dir;
    use crate::test_support::temp_dir;
    use std::time::Duration;

    fn open(dir: &Path) -> CheckedConfigDir {
        open_config_dir(Some(dir), None, false).unwrap()
    }

    /// Dates the marker in `dir` `by` before now (after, when `later`).
    fn date_marker(dir: &Path, by: Duration, later: bool) {
        let now = SystemTime::now();
        let when = if later { now + by } else { now - by };
        fs::File::options()
            .write(true)
            .open(dir.join(NOTICE_MARKER_FILE))
            .unwrap()
            .set_modified(when)
            .unwrap();
    }

    const AN_HOUR: Duration = Duration::from_secs(3600);

    /// Claims the notice at each version in turn, checking each answer.
    fn assert_claims(config: &CheckedConfigDir, steps: &[(u32, NoticeMarker)]) {
        for (n, (version, want)) in steps.iter().enumerate() {
            let got = claim_notice(Some(config), *version);
            assert_eq!(got, Ok(*want), "claim {n} at version {version}");
        }
    }

    /// Regression: a process sent data when another process, started at
    /// the same time, had just created the marker.
    #[test]
    fn a_marker_created_after_this_process_started_holds_this_process() {
        let root = temp_dir("marker");
        let dir = root.join("nested");
        let config = open(&dir);
        use NoticeMarker::{ShowNow, ShownToAnotherRun};
        assert_claims(&config, &[(1, ShowNow), (1, ShownToAnotherRun)]);
        // A marker from before this process started: the notice was shown.
        date_marker(&dir, AN_HOUR, false);
        assert_claims(&config, &[(1, NoticeMarker::AlreadyShown)]);
    }

    /// Regression: a marker dated in the future (a clock stepped back,
    /// files copied from a machine whose clock ran ahead) held every run's
    /// records as "shown to another run", forever.
    #[test]
    fn a_marker_dated_in_the_future_counts_as_seen() {
        let dir = temp_dir("future-marker");
        let config = open(&dir);
        assert_eq!(inspect(&dir, 1), Ok(false));
        assert_claims(&config, &[(1, NoticeMarker::ShowNow)]);
        date_marker(&dir, 24 * AN_HOUR, true);
        assert_eq!(inspect(&dir, 1), Ok(true));
        assert_claims(&config, &[(1, NoticeMarker::AlreadyShown)]);
    }

    #[test]
    fn a_raised_version_is_shown_once_more_and_kept() {
        use NoticeMarker::{AlreadyShown, ShowChanged, ShowNow, ShownToAnotherRun};
        let dir = temp_dir("versioned-marker");
        let config = open(&dir);
        assert_claims(&config, &[(1, ShowNow)]);
        assert_eq!(version_seen(&dir), Some(1));
        date_marker(&dir, AN_HOUR, false);
        assert_eq!(inspect(&dir, 1), Ok(true));
        assert_eq!(inspect(&dir, 2), Ok(false));
        assert_claims(&config, &[(2, ShowChanged { seen: 1 })]);
        assert_eq!(version_seen(&dir), Some(2));
        // Rewritten by this run: a later claim in this process is another
        // run's notice; once older, version 2 is seen, and 1 too.
        assert_claims(&config, &[(2, ShownToAnotherRun)]);
        date_marker(&dir, AN_HOUR, false);
        assert_claims(&config, &[(2, AlreadyShown), (1, AlreadyShown)]);
        // Garbage counts as version 1.
        fs::write(dir.join(NOTICE_MARKER_FILE), "not a number").unwrap();
        date_marker(&dir, AN_HOUR, false);
        assert_eq!(version_seen(&dir), Some(1));
    }
}
