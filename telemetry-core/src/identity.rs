//! Files in the config dir: the anonymous user id and the notice marker.
//!
//! Both are written only while telemetry is on. Writes never follow a
//! symlink: the id is written to a fresh temporary file (`create_new`) and
//! renamed over the old name, so a link planted at `user-uuid` is replaced,
//! not written through. The dir is created with mode 0700 and the id file
//! with mode 0600.

use crate::random;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::Path;

/// The id's file name in the config dir.
pub const USER_UUID_FILE: &str = "user-uuid";
/// The marker recording that the first-run notice was shown.
pub const NOTICE_MARKER_FILE: &str = "telemetry-notice-shown";

/// The anonymous id, and a note for the debug log when it could not be kept.
pub(crate) fn user_uuid(dir: Option<&Path>) -> (String, Option<&'static str>) {
    let Some(dir) = dir else {
        let note = "no config dir: the anonymous id lasts for this process only";
        return (random::format_uuid(random::uuid_v4()), Some(note));
    };
    let path = dir.join(USER_UUID_FILE);
    if let Some(id) = read_uuid(&path) {
        return (random::format_uuid(id), None);
    }
    let id = random::format_uuid(random::uuid_v4());
    match write_atomically(dir, &path, id.as_bytes()) {
        Ok(()) => (id, None),
        Err(_) => (
            id,
            Some("the config dir is not writable: the anonymous id lasts for this process only"),
        ),
    }
}

/// A valid id from a regular file (not a link), else `None`.
fn read_uuid(path: &Path) -> Option<u128> {
    let metadata = fs::symlink_metadata(path).ok()?;
    if !metadata.file_type().is_file() || metadata.len() > 64 {
        return None;
    }
    let mut text = String::new();
    fs::File::open(path)
        .ok()?
        .take(64)
        .read_to_string(&mut text)
        .ok()?;
    random::parse_uuid(text.trim())
}

fn write_atomically(dir: &Path, path: &Path, contents: &[u8]) -> std::io::Result<()> {
    create_private_dir(dir)?;
    let temp = dir.join(format!(
        ".{USER_UUID_FILE}.{:08x}.tmp",
        random::uuid_v4() as u32
    ));
    let written = (|| {
        let mut file = private_file_options().open(&temp)?;
        file.write_all(contents)?;
        file.write_all(b"\n")?;
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// How the first-run notice stands for this config dir.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoticeMarker {
    /// A marker exists: the notice was shown by an earlier run.
    AlreadyShown,
    /// This run created the marker: show the notice now.
    ShowNow,
    /// The marker cannot be written: show the notice, and since the next run
    /// will not know it was shown, every run shows it and sends nothing.
    ShowEveryRun,
}

/// Checks for the marker and creates it atomically (`create_new`) if absent.
pub(crate) fn claim_notice(dir: Option<&Path>) -> NoticeMarker {
    let Some(dir) = dir else {
        return NoticeMarker::ShowEveryRun;
    };
    let path = dir.join(NOTICE_MARKER_FILE);
    if fs::symlink_metadata(&path).is_ok() {
        return NoticeMarker::AlreadyShown;
    }
    if create_private_dir(dir).is_err() {
        return NoticeMarker::ShowEveryRun;
    }
    match private_file_options().open(&path) {
        Ok(_) => NoticeMarker::ShowNow,
        // Another process created it between our check and now.
        Err(error) if error.kind() == ErrorKind::AlreadyExists => NoticeMarker::AlreadyShown,
        Err(_) => NoticeMarker::ShowEveryRun,
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// `create_new` (O_EXCL: never follows or reuses an existing link), mode 0600.
fn private_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A fresh dir under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl std::ops::Deref for TempDir {
        type Target = Path;

        fn deref(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn temp_dir(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "telemetry-identity-{name}-{}",
            random::format_uuid(random::uuid_v4())
        ));
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    #[test]
    fn id_is_created_once_then_reused() {
        let dir = temp_dir("reuse");
        let (first, note) = user_uuid(Some(&dir));
        assert_eq!(note, None);
        let (second, _) = user_uuid(Some(&dir));
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.join(USER_UUID_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn corrupt_or_empty_ids_are_regenerated() {
        let dir = temp_dir("corrupt");
        for contents in [&b""[..], b"not a uuid", &[0xff, 0x00, 0x13][..]] {
            fs::write(dir.join(USER_UUID_FILE), contents).unwrap();
            let (id, note) = user_uuid(Some(&dir));
            assert_eq!(note, None);
            assert!(random::parse_uuid(&id).is_some());
            assert_eq!(
                fs::read_to_string(dir.join(USER_UUID_FILE)).unwrap().trim(),
                id
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_id_is_replaced_not_written_through() {
        let dir = temp_dir("symlink");
        let victim = dir.join("victim");
        fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join(USER_UUID_FILE)).unwrap();
        let (id, _) = user_uuid(Some(&dir));
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        let meta = fs::symlink_metadata(dir.join(USER_UUID_FILE)).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(
            fs::read_to_string(dir.join(USER_UUID_FILE)).unwrap().trim(),
            id
        );
    }

    #[test]
    fn a_config_dir_that_is_a_file_keeps_the_id_in_memory() {
        let dir = temp_dir("file");
        let not_a_dir = dir.join("plain-file");
        fs::write(&not_a_dir, "x").unwrap();
        let (id, note) = user_uuid(Some(&not_a_dir));
        assert!(random::parse_uuid(&id).is_some());
        assert!(note.is_some());
        assert_eq!(claim_notice(Some(&not_a_dir)), NoticeMarker::ShowEveryRun);
    }

    #[test]
    fn the_marker_is_claimed_once() {
        let root = temp_dir("marker");
        let dir = root.join("nested");
        assert_eq!(claim_notice(Some(&dir)), NoticeMarker::ShowNow);
        assert_eq!(claim_notice(Some(&dir)), NoticeMarker::AlreadyShown);
    }
}
