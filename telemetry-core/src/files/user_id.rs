//! The anonymous id's file, `user-uuid` in the config dir: written only
//! while telemetry is on, opened once without following links or blocking
//! (see [`files`]), and checked on the opened handle.
//!
//! The id is written to a fresh temporary file and then hard-linked to its
//! name, which fails if the name exists: the id file is never replaced, and
//! a process that loses the race to create it reads the winner's id. An id
//! file that is empty or corrupt is rewritten in place, under an exclusive
//! lock and after reading it again, so that concurrent repairs agree on one
//! id.

use crate::files::config_dir::{CheckedConfigDir, ConfigDirRefused, ConfigItem};
use crate::files::{self, OpenError, Refusal};
use crate::record::random;
use std::fs::{self, File};
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The id's file name in the config dir.
pub const USER_UUID_FILE: &str = "user-uuid";
/// The longest id file read: a UUID and a line end fit with room to spare.
const MAX_ID_FILE_LEN: usize = 64;

const NOT_WRITABLE_NOTE: &str =
    "the config dir is not writable: the anonymous id lasts for this process only";
const NOT_A_FILE_NOTE: &str =
    "the user-uuid file is not a regular file: the anonymous id lasts for this process only";

/// Looks at the id file without creating or reading it: refused when it is
/// a link, another user's or writable by others (anything else there,
/// missing or not a regular file, leaves the id to [`user_uuid`]).
pub(crate) fn inspect(dir: &Path) -> Result<(), Refusal> {
    match fs::symlink_metadata(dir.join(USER_UUID_FILE)) {
        Ok(file) => files::check_metadata(&file),
        Err(_) => Ok(()),
    }
}

/// The id kept in `dir`'s id file, read without creating or repairing
/// anything; `None` when there is none (or it cannot be trusted).
pub(crate) fn existing(dir: &Path) -> Option<String> {
    let file = files::open_file(&dir.join(USER_UUID_FILE)).ok()?;
    read_id(&file)
}

/// The anonymous id, and a note for the debug log when it could not be kept;
/// an id file that is refused turns telemetry off for this run.
///
/// With no config dir, the id is for this process only and there is no
/// note: why there is no config dir ([`NoConfigDir`](crate::files::config_dir::NoConfigDir)) is the caller's line,
/// and it says so already.
pub(crate) fn user_uuid(
    dir: Option<&CheckedConfigDir>,
) -> Result<(String, Option<&'static str>), ConfigDirRefused> {
    let Some(dir) = dir else {
        return Ok((fresh_id(), None));
    };
    let path = dir.path().join(USER_UUID_FILE);
    // Missing, then created by another process first: read theirs. Three
    // rounds cover a file removed again in between.
    for _ in 0..3 {
        match files::open_file(&path) {
            Ok(file) => return Ok(read_or_repair(&file)),
            Err(OpenError::Missing) => match create_exclusively(dir.path(), &path) {
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
    let temp = files::temp_beside(dir, USER_UUID_FILE);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::config_dir::open_config_dir;
    use crate::test_support::temp_dir;

    fn open(dir: &Path) -> CheckedConfigDir {
        open_config_dir(Some(dir), None, false).unwrap()
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn id_is_created_once_then_reused() {
        let dir = temp_dir("reuse");
        let config = open(&dir);
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
        let config = open(&dir);
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
                    let config = open(&dir);
                    start.wait();
                    user_uuid(Some(&config)).unwrap().0
                })
            })
            .collect();
        let ids: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let on_disk = fs::read_to_string(dir.join(USER_UUID_FILE)).unwrap();
        assert!(ids.iter().all(|id| id == on_disk.trim()), "{ids:?}");
    }
}
