//! The notice marker, `telemetry-notice-shown` in the config dir: it
//! records that the first-run notice was shown. A process sends only if the
//! marker existed before it started ([`process_start`]), or if the marker
//! is dated later than now: a clock stepped back, or files copied from a
//! machine whose clock ran ahead. A marker made by a run started at the
//! same time is never in the future, so that rule lets no such run send.

use crate::files::config_dir::{CheckedConfigDir, ConfigDirRefused, ConfigItem};
use crate::files::Refusal;
use crate::files::{self, process_start};
use std::fs;
use std::io::ErrorKind;
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

/// Looks at the marker without creating it: whether it counts as seen
/// (`false` when missing), or why it is refused.
pub(crate) fn inspect(dir: &Path) -> Result<bool, Refusal> {
    match fs::symlink_metadata(dir.join(NOTICE_MARKER_FILE)) {
        Ok(marker) => {
            files::check_metadata(&marker)?;
            Ok(marker.modified().is_ok_and(counts_as_seen))
        }
        Err(_) => Ok(false),
    }
}

/// Checks for the marker and creates it atomically (`O_EXCL`) if absent; a
/// marker that is a link, not ours or writable by others is refused.
///
/// The marker is never opened or read, only its presence and its times
/// count: it is looked at with `lstat` (which neither follows a link nor
/// blocks), and anything of ours there (a file, unreadable or not, or a
/// dir) means that the notice was shown, when it was made.
pub(crate) fn claim_notice(
    dir: Option<&CheckedConfigDir>,
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
                return Ok(if marker.modified().is_ok_and(counts_as_seen) {
                    NoticeMarker::AlreadyShown
                } else {
                    NoticeMarker::ShownToAnotherRun
                });
            }
            Err(error) if error.kind() == ErrorKind::NotFound => {
                match files::create_new(&path) {
                    Ok(_) => return Ok(NoticeMarker::ShowNow),
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

    /// Regression: a process sent data when another process, started at
    /// the same time, had just created the marker.
    #[test]
    fn a_marker_created_after_this_process_started_holds_this_process() {
        let root = temp_dir("marker");
        let dir = root.join("nested");
        let config = open(&dir);
        assert_eq!(claim_notice(Some(&config)), Ok(NoticeMarker::ShowNow));
        assert_eq!(
            claim_notice(Some(&config)),
            Ok(NoticeMarker::ShownToAnotherRun)
        );
        // A marker from before this process started: the notice was shown.
        let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(dir.join(NOTICE_MARKER_FILE))
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();
        assert_eq!(claim_notice(Some(&config)), Ok(NoticeMarker::AlreadyShown));
    }

    /// Regression: a marker dated in the future (a clock stepped back,
    /// files copied from a machine whose clock ran ahead) held every run's
    /// records as "shown to another run", forever.
    #[test]
    fn a_marker_dated_in_the_future_counts_as_seen() {
        let dir = temp_dir("future-marker");
        let config = open(&dir);
        assert_eq!(inspect(&dir), Ok(false));
        assert_eq!(claim_notice(Some(&config)), Ok(NoticeMarker::ShowNow));
        let in_a_day = SystemTime::now() + Duration::from_secs(86_400);
        fs::File::options()
            .write(true)
            .open(dir.join(NOTICE_MARKER_FILE))
            .unwrap()
            .set_modified(in_a_day)
            .unwrap();
        assert_eq!(inspect(&dir), Ok(true));
        assert_eq!(claim_notice(Some(&config)), Ok(NoticeMarker::AlreadyShown));
    }
}
