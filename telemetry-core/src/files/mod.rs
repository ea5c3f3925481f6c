//! Opening files and dirs that someone else may have prepared: a planted
//! symlink, a FIFO, another user's file.
//!
//! Each is opened once, without following a symlink at the last component
//! (`O_NOFOLLOW`) and without blocking on a FIFO or device (`O_NONBLOCK`,
//! `O_NOCTTY`); the checks then look at the opened handle (`fstat`), never at
//! the path again, so nothing can be swapped in between the check and the
//! use. Files are created with `O_EXCL` (which never follows a link) and mode
//! 0600, dirs with mode 0700.

pub(crate) mod choice;
pub(crate) mod config_dir;
pub(crate) mod notice_marker;
pub(crate) mod process_start;
pub(crate) mod user_id;

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Why an existing config dir, file in it, or debug file is not used (see
/// [`ConfigDirRefused`](crate::ConfigDirRefused)). Its `Display` is the end
/// of a debug line: "is a symbolic link".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// It is a symbolic link.
    Symlink,
    /// A regular file was expected: it is a FIFO, a device, a socket or a dir.
    NotAFile,
    /// A dir was expected.
    NotADir,
    /// It belongs to another user.
    NotOurs,
    /// Users other than its owner may write to it (group- or world-writable).
    WritableByOthers,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Symlink => "is a symbolic link",
            Refusal::NotAFile => "is not a regular file",
            Refusal::NotADir => "is not a directory",
            Refusal::NotOurs => "belongs to another user",
            Refusal::WritableByOthers => "is writable by other users",
        })
    }
}

/// Why [`open_file`], [`open_dir`] or [`open_append`] gave no handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// Nothing exists at the path.
    Missing,
    /// Something exists, and is refused.
    Refused(Refusal),
    /// The operating system refused (permission, a parent that is a file,
    /// a read-only file system, ...).
    Io(io::ErrorKind),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Missing => f.write_str("does not exist"),
            OpenError::Refused(refused) => refused.fmt(f),
            OpenError::Io(kind) => write!(f, "cannot be opened ({kind})"),
        }
    }
}

/// Opens an existing regular file of ours that no other user may write to,
/// for reading and writing, or for reading only when it is not writable.
pub(crate) fn open_file(path: &Path) -> Result<File, OpenError> {
    let open = |write: bool| {
        let mut options = OpenOptions::new();
        options.read(true).write(write);
        no_follow_no_block(&mut options);
        options.open(path)
    };
    let file = match open(true) {
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => open(false),
        other => other,
    }
    .map_err(|error| classify(&error))?;
    check_owned(&file, Kind::File, true)?;
    Ok(file)
}

/// Opens an existing dir of ours that no other user may write to.
pub(crate) fn open_dir(path: &Path) -> Result<File, OpenError> {
    // Not `O_DIRECTORY`: with it, Linux reports a symlink as "not a
    // directory" instead of a link.
    let mut options = OpenOptions::new();
    options.read(true);
    no_follow_no_block(&mut options);
    let dir = options.open(path).map_err(|error| classify(&error))?;
    check_owned(&dir, Kind::Dir, true)?;
    Ok(dir)
}

/// Opens `path` for appending, creating it with mode 0600; only a regular
/// file of ours is accepted.
pub(crate) fn open_append(path: &Path) -> Result<File, OpenError> {
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    no_follow_no_block(&mut options);
    private_mode(&mut options);
    let file = options.open(path).map_err(|error| classify(&error))?;
    check_owned(&file, Kind::File, false)?;
    Ok(file)
}

/// Creates a new file, mode 0600, for reading and writing; fails if
/// anything (a link included) exists at `path`.
pub(crate) fn create_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true);
    private_mode(&mut options);
    options.open(path)
}

/// A fresh temporary name beside `name` in `dir`: `.<name>.<random>.tmp`
/// (32 random bits are plenty to make it unique).
pub(crate) fn temp_beside(dir: &Path, name: &str) -> std::path::PathBuf {
    // The UUID's low bits are kept and the rest dropped on purpose.
    #[allow(clippy::cast_possible_truncation)]
    let suffix = crate::record::random::uuid_v4() as u32;
    dir.join(format!(".{name}.{suffix:08x}.tmp"))
}

/// Replaces `dir/name` with `contents` at once: written to a fresh
/// temporary file (`create_new`, 0600) beside it, synced, then renamed over
/// the name. A link planted at the name is replaced, never written through,
/// and a reader sees the old contents or the new, never half of them.
pub(crate) fn replace(dir: &Path, name: &str, contents: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let temp = temp_beside(dir, name);
    let written = (|| {
        let mut file = create_new(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        // rename replaces whatever is at the name (a link included) without
        // following it; a directory there makes it fail.
        std::fs::rename(&temp, dir.join(name))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Creates `dir` and its missing parents with mode 0700.
pub(crate) fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Takes an exclusive advisory lock on `file` (`flock`), trying for at most
/// about 50 ms: a file readable by others may be locked by them, and a lock
/// must never hang the program. `false` when not taken. The lock is released
/// when the handle is closed.
pub(crate) fn lock_exclusive(file: &File) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        for _ in 0..50 {
            // SAFETY: `flock` on a descriptor this `File` owns and keeps open.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        false
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        true
    }
}

/// Takes an exclusive advisory lock on `file` if no one holds it, without
/// waiting: `false` when another handle holds it.
pub(crate) fn try_lock_exclusive(file: &File) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: `flock` on a descriptor this `File` owns and keeps open.
        unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        true
    }
}

/// The effective user id, whose files are "ours".
#[cfg(unix)]
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Whether this process may create entries in the dir at `path` (write
/// and search permission, for the effective user), asked without creating
/// anything.
pub(crate) fn may_create_in(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: `path` is a NUL-terminated string that outlives the call.
        unsafe {
            libc::faccessat(
                libc::AT_FDCWD,
                path.as_ptr(),
                libc::W_OK | libc::X_OK,
                libc::AT_EACCESS,
            ) == 0
        }
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(path).is_ok_and(|meta| !meta.permissions().readonly())
    }
}

/// The checks of an entry looked at with `lstat`, for one that is never
/// opened: not a symlink, ours, not writable by others; any kind.
pub(crate) fn check_metadata(metadata: &std::fs::Metadata) -> Result<(), Refusal> {
    if metadata.file_type().is_symlink() {
        return Err(Refusal::Symlink);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if metadata.uid() != effective_uid() {
            return Err(Refusal::NotOurs);
        }
        if metadata.mode() & 0o022 != 0 {
            return Err(Refusal::WritableByOthers);
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
}

/// `O_NOFOLLOW` (a link at the last component is refused, not followed),
/// `O_NONBLOCK` (a FIFO or device does not hang the open; a regular file
/// ignores it) and `O_NOCTTY`.
pub(crate) fn no_follow_no_block(options: &mut OpenOptions) {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        options,
        libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY,
    );
    #[cfg(not(unix))]
    let _ = options;
}

/// Mode 0600 for a file the options create.
pub(crate) fn private_mode(options: &mut OpenOptions) {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    #[cfg(not(unix))]
    let _ = options;
}

fn classify(error: &io::Error) -> OpenError {
    #[cfg(unix)]
    if matches!(error.raw_os_error(), Some(libc::ELOOP | libc::EMLINK)) {
        // `O_NOFOLLOW` met a symlink (`EMLINK` on the BSDs).
        return OpenError::Refused(Refusal::Symlink);
    }
    match error.kind() {
        io::ErrorKind::NotFound => OpenError::Missing,
        // Opened for writing, a dir says so before any `fstat`.
        io::ErrorKind::IsADirectory => OpenError::Refused(Refusal::NotAFile),
        kind => OpenError::Io(kind),
    }
}

/// Checks the opened handle: its kind, its owner, and (when
/// `private_to_owner`) that no one else may write to it.
fn check_owned(file: &File, kind: Kind, private_to_owner: bool) -> Result<(), OpenError> {
    let metadata = file
        .metadata()
        .map_err(|error| OpenError::Io(error.kind()))?;
    match kind {
        Kind::File if !metadata.is_file() => return Err(OpenError::Refused(Refusal::NotAFile)),
        Kind::Dir if !metadata.is_dir() => return Err(OpenError::Refused(Refusal::NotADir)),
        _ => {}
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if metadata.uid() != effective_uid() {
            return Err(OpenError::Refused(Refusal::NotOurs));
        }
        if private_to_owner && metadata.mode() & 0o022 != 0 {
            return Err(OpenError::Refused(Refusal::WritableByOthers));
        }
    }
    #[cfg(not(unix))]
    let _ = private_to_owner;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    use crate::test_support::temp_dir;

    #[test]
    fn links_fifos_and_open_modes_are_refused_by_kind() {
        let dir = temp_dir("kinds");
        let file = dir.join("file");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(open_file(&file).is_ok());

        let link = dir.join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(
            open_file(&link).err(),
            Some(OpenError::Refused(Refusal::Symlink))
        );
        assert_eq!(
            open_dir(&link).err(),
            Some(OpenError::Refused(Refusal::Symlink))
        );
        assert_eq!(
            open_append(&link).err(),
            Some(OpenError::Refused(Refusal::Symlink))
        );

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o620)).unwrap();
        assert_eq!(
            open_file(&file).err(),
            Some(OpenError::Refused(Refusal::WritableByOthers))
        );
        assert_eq!(
            open_dir(&file).err(),
            Some(OpenError::Refused(Refusal::NotADir))
        );
        assert_eq!(
            open_file(&dir).err(),
            Some(OpenError::Refused(Refusal::NotAFile))
        );
        assert_eq!(
            open_file(&dir.join("missing")).err(),
            Some(OpenError::Missing)
        );
    }
}
