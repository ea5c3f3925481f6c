//! Files in the config dir: the anonymous user id and the notice marker,
//! and the checks that decide whether a config dir may be used at all.
//!
//! [`open_config_dir`] is the one gate: it refuses a config dir that is a
//! symlink, not ours, or writable by other users ([`ConfigDirRefused`]:
//! telemetry is off for that run), creates a missing one with mode 0700 and
//! checks the result, and reports "no config dir" ([`NoConfigDir`]) when
//! there is none, it cannot be created, or the process runs as root on
//! behalf of another user (`sudo -E`): nothing is then written as root in
//! that user's dir.
//!
//! Both files are written only while telemetry is on, opened once without
//! following links or blocking (see [`files`](crate::files)), and checked on the
//! opened handle. The id is written to a fresh temporary file and then
//! hard-linked to its name, which fails if the name exists: the id file is
//! never replaced, and a process that loses the race to create it reads the
//! winner's id. An id file that is empty or corrupt is rewritten in place,
//! under an exclusive lock and after reading it again, so that concurrent
//! repairs agree on one id.

use crate::files::process_start;
use crate::files::{self, OpenError, Refusal};
use crate::record::random;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The id's file name in the config dir.
pub const USER_UUID_FILE: &str = "user-uuid";
/// The marker recording that the first-run notice was shown.
pub const NOTICE_MARKER_FILE: &str = "telemetry-notice-shown";

/// The longest id file read: a UUID and a line end fit with room to spare.
const MAX_ID_FILE_LEN: usize = 64;

/// A config dir that passed [`open_config_dir`]'s checks: a real dir (not a
/// link), ours, not writable by other users.
#[derive(Debug)]
pub(crate) struct CheckedConfigDir {
    path: PathBuf,
}

impl CheckedConfigDir {
    /// The dir's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// What in the config dir was refused (see [`ConfigDirRefused`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigItem {
    /// The config dir itself.
    Dir,
    /// The `user-uuid` file.
    UserUuid,
    /// The notice marker.
    NoticeMarker,
}

/// A config dir, or a file in it, that must not be trusted (a symlink,
/// another user's, writable by others): telemetry is off for this run
/// ([`OffReason::ConfigDirRefused`](crate::OffReason::ConfigDirRefused)),
/// and it is left as it is. Its `Display` names the item and the reason,
/// never the path: "the config dir is a symbolic link".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigDirRefused {
    /// What was refused.
    pub item: ConfigItem,
    /// Why.
    pub why: Refusal,
}

impl fmt::Display for ConfigDirRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let item = match self.item {
            ConfigItem::Dir => "the config dir",
            ConfigItem::UserUuid => "the config dir's user-uuid file",
            ConfigItem::NoticeMarker => "the config dir's notice marker",
        };
        write!(f, "{item} {}", self.why)
    }
}

/// Why this run has no config dir. Except for [`NoConfigDir::Refused`], the
/// run goes on without one: the id lasts for this process only, and the
/// notice is shown and nothing is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoConfigDir {
    /// None was configured, and neither `XDG_CONFIG_HOME` nor `HOME` gives one.
    Unset,
    /// The process runs as root on behalf of another user (`SUDO_UID` is
    /// set, or `HOME` belongs to another user): nothing is written as root
    /// in a user's dir.
    Elevated,
    /// It does not exist and cannot be created, or cannot be opened.
    Unusable(ErrorKind),
    /// It is refused: telemetry is off for this run.
    Refused(ConfigDirRefused),
}

impl fmt::Display for NoConfigDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoConfigDir::Unset => f.write_str("no config dir (neither XDG_CONFIG_HOME nor HOME is set)"),
            NoConfigDir::Elevated => f.write_str(
                "no config dir (running as root on behalf of another user, so nothing is written to that user's config dir)",
            ),
            NoConfigDir::Unusable(kind) => {
                write!(f, "no config dir (it cannot be created or opened: {kind})")
            }
            NoConfigDir::Refused(refused) => return refused.fmt(f),
        }?;
        f.write_str(": the anonymous id lasts for this process only")
    }
}

/// Checks the config dir at `path` and creates it (mode 0700) when missing.
///
/// `home` is `$HOME` and `sudo_uid_set` whether `SUDO_UID` is set: with the
/// effective user root, either a set `SUDO_UID` or a `HOME` of another user's
/// means root acting for that user, and gives [`NoConfigDir::Elevated`].
pub(crate) fn open_config_dir(
    path: Option<&Path>,
    home: Option<&Path>,
    sudo_uid_set: bool,
) -> Result<CheckedConfigDir, NoConfigDir> {
    let Some(path) = path else {
        return Err(NoConfigDir::Unset);
    };
    if elevated_for_another_user(home, sudo_uid_set) {
        return Err(NoConfigDir::Elevated);
    }
    let checked = match files::open_dir(path) {
        Err(OpenError::Missing) => {
            files::create_dir(path).map_err(|error| NoConfigDir::Unusable(error.kind()))?;
            // Check what is there now, not what was meant to be created.
            files::open_dir(path)
        }
        other => other,
    };
    match checked {
        Ok(_) => Ok(CheckedConfigDir {
            path: path.to_path_buf(),
        }),
        // A file where the dir should be: nothing to use, nothing to fear.
        Err(OpenError::Refused(Refusal::NotADir)) => {
            Err(NoConfigDir::Unusable(ErrorKind::NotADirectory))
        }
        Err(OpenError::Refused(why)) => Err(NoConfigDir::Refused(ConfigDirRefused {
            item: ConfigItem::Dir,
            why,
        })),
        Err(OpenError::Missing) => Err(NoConfigDir::Unusable(ErrorKind::NotFound)),
        Err(OpenError::Io(kind)) => Err(NoConfigDir::Unusable(kind)),
    }
}

#[cfg(unix)]
pub(crate) fn elevated_for_another_user(home: Option<&Path>, sudo_uid_set: bool) -> bool {
    use std::os::unix::fs::MetadataExt;
    if files::effective_uid() != 0 {
        return false;
    }
    sudo_uid_set
        || home
            .and_then(|home| fs::metadata(home).ok())
            .is_some_and(|home| home.uid() != 0)
}

#[cfg(not(unix))]
pub(crate) fn elevated_for_another_user(_home: Option<&Path>, _sudo_uid_set: bool) -> bool {
    false
}

const NOT_WRITABLE_NOTE: &str =
    "the config dir is not writable: the anonymous id lasts for this process only";
const NOT_A_FILE_NOTE: &str =
    "the user-uuid file is not a regular file: the anonymous id lasts for this process only";

/// The anonymous id, and a note for the debug log when it could not be kept;
/// an id file that is refused turns telemetry off for this run.
///
/// With no config dir, the id is for this process only and there is no
/// note: why there is no config dir ([`NoConfigDir`]) is the caller's line,
/// and it says so already.
pub(crate) fn user_uuid(
    dir: Option<&CheckedConfigDir>,
) -> Result<(String, Option<&'static str>), ConfigDirRefused> {
    let Some(dir) = dir else {
        return Ok((fresh_id(), None));
    };
    let path = dir.path.join(USER_UUID_FILE);
    // Missing, then created by another process first: read theirs. Three
    // rounds cover a file removed again in between.
    for _ in 0..3 {
        match files::open_file(&path) {
            Ok(file) => return Ok(read_or_repair(&file)),
            Err(OpenError::Missing) => match create_exclusively(&dir.path, &path) {
                Ok(id) => return Ok((id, None)),
                // Another process created it first: read theirs next round.
                Err(error) if error.kind() == ErrorKind::AlreadyExists => {}
                Err(_) => return Ok((fresh_id(), Some(NOT_WRITABLE_NOTE))),
            },
            Err(OpenError::Refused(Refusal::NotAFile)) => {
                return Ok((fresh_id(), Some(NOT_A_FILE_NOTE)))
            }
            Err(OpenError::Refused(why)) => {
                return Err(ConfigDirRefused {
                    item: ConfigItem::UserUuid,
                    why,
                })
            }
            Err(OpenError::Io(_)) => return Ok((fresh_id(), Some(NOT_WRITABLE_NOTE))),
        }
    }
    Ok((fresh_id(), Some(NOT_WRITABLE_NOTE)))
}

fn fresh_id() -> String {
    random::format_uuid(random::uuid_v4())
}

/// The id in `file`; if it holds none, a new id written in its place.
fn read_or_repair(file: &File) -> (String, Option<&'static str>) {
    if let Some(id) = read_id(file) {
        return (id, None);
    }
    if !files::lock_exclusive(file) {
        return (fresh_id(), Some(NOT_WRITABLE_NOTE));
    }
    // Another process may have repaired it while we waited for the lock.
    if let Some(id) = read_id(file) {
        return (id, None);
    }
    let id = fresh_id();
    let written = (|| {
        #[cfg(unix)]
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        file.set_len(0)?;
        let mut file = file;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(format!("{id}\n").as_bytes())?;
        file.flush()
    })();
    match written {
        Ok(()) => (id, None),
        Err(_) => (id, Some(NOT_WRITABLE_NOTE)),
    }
}

/// A valid id from the start of `file`, read through the handle.
fn read_id(mut file: &File) -> Option<String> {
    file.seek(SeekFrom::Start(0)).ok()?;
    let mut bytes = Vec::with_capacity(MAX_ID_FILE_LEN + 1);
    file.take(MAX_ID_FILE_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    if bytes.len() > MAX_ID_FILE_LEN {
        return None;
    }
    let id = random::parse_uuid(std::str::from_utf8(&bytes).ok()?.trim())?;
    Some(random::format_uuid(id))
}

/// Writes a new id to a temporary file and links it to `path`; fails with
/// `AlreadyExists` when another process created `path` first.
fn create_exclusively(dir: &Path, path: &Path) -> io::Result<String> {
    let id = fresh_id();
    // A random temporary name: 32 random bits are plenty, so the UUID's
    // low bits are kept and the rest dropped on purpose.
    #[allow(clippy::cast_possible_truncation)]
    let suffix = random::uuid_v4() as u32;
    let temp = dir.join(format!(".{USER_UUID_FILE}.{suffix:08x}.tmp"));
    let mut file = files::create_new(&temp)?;
    let linked = match file.write_all(format!("{id}\n").as_bytes()) {
        Ok(()) => fs::hard_link(&temp, path),
        Err(error) => {
            let _ = fs::remove_file(&temp);
            return Err(error);
        }
    };
    drop(file);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(id),
        Err(error) if error.kind() == ErrorKind::AlreadyExists => Err(error),
        // No hard links on this file system: create the name itself
        // (`O_EXCL`), then fill it as an empty file is repaired, so that a
        // reader who sees it empty meanwhile agrees on the id.
        Err(_) => Ok(read_or_repair(&files::create_new(path)?).0),
    }
}

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
    let path = dir.path.join(NOTICE_MARKER_FILE);
    for _ in 0..2 {
        match fs::symlink_metadata(&path) {
            Ok(marker) => {
                if let Err(why) = files::check_metadata(&marker) {
                    return Err(ConfigDirRefused {
                        item: ConfigItem::NoticeMarker,
                        why,
                    });
                }
                let predates = marker
                    .modified()
                    .is_ok_and(process_start::predates_this_process);
                return Ok(if predates {
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
    use std::time::{Duration, SystemTime};

    use crate::test_support::temp_dir;

    fn open(dir: &Path) -> Result<CheckedConfigDir, NoConfigDir> {
        open_config_dir(Some(dir), None, false)
    }

    fn refused(item: ConfigItem, why: Refusal) -> ConfigDirRefused {
        ConfigDirRefused { item, why }
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn id_is_created_once_then_reused() {
        let dir = temp_dir("reuse");
        let config = open(&dir).unwrap();
        let (first, note) = user_uuid(Some(&config)).unwrap();
        assert_eq!(note, None);
        let (second, _) = user_uuid(Some(&config)).unwrap();
        assert_eq!(first, second);
        #[cfg(unix)]
        assert_eq!(mode(&dir.join(USER_UUID_FILE)), 0o600);
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(&*dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [USER_UUID_FILE]);
    }

    #[test]
    fn corrupt_or_empty_ids_are_regenerated() {
        let dir = temp_dir("corrupt");
        let config = open(&dir).unwrap();
        let too_long = [b'7'; 100];
        for contents in [
            &b""[..],
            b"not a uuid",
            &[0xff, 0x00, 0x13][..],
            &too_long[..],
        ] {
            fs::write(dir.join(USER_UUID_FILE), contents).unwrap();
            let (id, note) = user_uuid(Some(&config)).unwrap();
            assert_eq!(note, None);
            assert!(random::parse_uuid(&id).is_some());
            assert_eq!(
                fs::read_to_string(dir.join(USER_UUID_FILE)).unwrap().trim(),
                id
            );
        }
    }

    #[test]
    fn racing_repairs_of_a_corrupt_id_agree() {
        let dir = temp_dir("repair-race");
        fs::write(dir.join(USER_UUID_FILE), "corrupt").unwrap();
        let start = std::sync::Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (dir, start) = (dir.to_path_buf(), start.clone());
                std::thread::spawn(move || {
                    let config = open(&dir).unwrap();
                    start.wait();
                    user_uuid(Some(&config)).unwrap().0
                })
            })
            .collect();
        let ids: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let on_disk = fs::read_to_string(dir.join(USER_UUID_FILE)).unwrap();
        assert!(ids.iter().all(|id| id == on_disk.trim()), "{ids:?}");
    }

    #[cfg(unix)]
    #[test]
    fn files_writable_by_others_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("writable-files");
        let config = open(&dir).unwrap();
        for name in [USER_UUID_FILE, NOTICE_MARKER_FILE] {
            let path = dir.join(name);
            fs::write(&path, "").unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        }
        assert_eq!(
            user_uuid(Some(&config)),
            Err(refused(ConfigItem::UserUuid, Refusal::WritableByOthers))
        );
        assert_eq!(
            claim_notice(Some(&config)),
            Err(refused(ConfigItem::NoticeMarker, Refusal::WritableByOthers))
        );
    }

    #[test]
    fn a_config_dir_that_is_a_file_keeps_the_id_in_memory() {
        let dir = temp_dir("file");
        let not_a_dir = dir.join("plain-file");
        fs::write(&not_a_dir, "x").unwrap();
        assert_eq!(
            open(&not_a_dir).err(),
            Some(NoConfigDir::Unusable(ErrorKind::NotADirectory))
        );
        let (id, note) = user_uuid(None).unwrap();
        assert!(random::parse_uuid(&id).is_some());
        // The caller's line about the missing config dir says it already.
        assert_eq!(note, None);
        assert_eq!(claim_notice(None), Ok(NoticeMarker::ShowEveryRun));
    }

    /// Regression: a process sent data when another process, started at
    /// the same time, had just created the marker.
    #[test]
    fn a_marker_created_after_this_process_started_holds_this_process() {
        let root = temp_dir("marker");
        let dir = root.join("nested");
        let config = open(&dir).unwrap();
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

    #[test]
    fn no_path_means_no_config_dir() {
        assert_eq!(
            open_config_dir(None, None, false).err(),
            Some(NoConfigDir::Unset)
        );
        // Said as "no config dir", not as a dir that is not writable.
        assert_eq!(
            NoConfigDir::Unset.to_string(),
            "no config dir (neither XDG_CONFIG_HOME nor HOME is set): the anonymous id lasts for this process only"
        );
    }
}
