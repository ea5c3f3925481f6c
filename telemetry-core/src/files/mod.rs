//! Opening files and dirs that someone else may have prepared: a planted
//! symlink, a FIFO, another user's file.
//!
//! Each is opened once, without following a symlink at the last component
//! (`O_NOFOLLOW`) and without blocking on a FIFO or device (`O_NONBLOCK`,
//! `O_NOCTTY`); the checks then look at the opened handle (`fstat`), never at
//! the path again, so nothing can be swapped in between the check and the
//! use. Files are created with `O_EXCL` (which never follows a link) and mode
//! 0600, dirs with mode 0700.

pub(crate) mod backoff_file;
pub(crate) mod choice;
pub(crate) mod config_dir;
pub(crate) mod history;
pub(crate) mod limits;
pub(crate) mod notice_marker;
pub(crate) mod process_start;
pub(crate) mod user_id;

pub(crate) use limits::{fsize_room, is_shortage, SizeLimited};

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
        open_checked(
            path,
            OpenOptions::new().read(true).write(write),
            Kind::File,
            true,
        )
    };
    match open(true) {
        Err(OpenError::Io(io::ErrorKind::PermissionDenied)) => open(false),
        other => other,
    }
}

/// Opens an existing dir of ours that no other user may write to.
pub(crate) fn open_dir(path: &Path) -> Result<File, OpenError> {
    // Not `O_DIRECTORY`: with it, Linux reports a symlink as "not a
    // directory" instead of a link.
    open_checked(path, OpenOptions::new().read(true), Kind::Dir, true)
}

/// Opens `path` for appending, creating it with mode 0600; only a regular
/// file of ours is accepted.
pub(crate) fn open_append(path: &Path) -> Result<File, OpenError> {
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    open_checked(path, &mut options, Kind::File, false)
}

/// Opens `path` for reading and appending, creating it with mode 0600;
/// only a regular file of ours that no other user may write to is
/// accepted (a link at the name is refused, not followed).
pub(crate) fn open_read_append(path: &Path) -> Result<File, OpenError> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    open_checked(path, &mut options, Kind::File, true)
}

/// Opens `path` with `options`, never following a link at the name nor
/// blocking on a FIFO, a file it creates mode 0600; then checks the handle
/// ([`check_owned`]).
fn open_checked(
    path: &Path,
    options: &mut OpenOptions,
    kind: Kind,
    private_to_owner: bool,
) -> Result<File, OpenError> {
    no_follow_no_block(options);
    private_mode(options);
    let file = options.open(path).map_err(|error| classify(&error))?;
    check_owned(&file, kind, private_to_owner)?;
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
    for _ in 0..50 {
        if try_lock(file) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    false
}

/// Takes an exclusive advisory lock on `file` (`flock`) if no one holds
/// it, without waiting. Held until the handle is closed; the kernel
/// releases it when the process ends in any way. Always `true` where there
/// is no `flock`.
pub(crate) fn try_lock(file: &File) -> bool {
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

/// Whether `path` still names the file `file` is open on (same device and
/// inode, the name not followed): `false` once the name was removed or
/// now names another file. Always `true` where there are no inodes.
pub(crate) fn names_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::symlink_metadata(path)) {
            (Ok(held), Ok(named)) => held.dev() == named.dev() && held.ino() == named.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

/// Whether `metadata` (of an opened handle, or an `lstat`) is the current
/// user's.
pub(crate) fn is_ours(metadata: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        metadata.uid() == effective_uid()
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
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

/// Why [`read_small`] gave no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SmallTextError {
    /// The file could not be read.
    Io,
    /// It holds more than the bytes allowed.
    TooLong,
    /// It is not UTF-8.
    NotUtf8,
}

/// The text of a small file already opened (and checked): at most `max`
/// bytes are read, so that a file grown past them is refused rather than
/// read whole.
pub(crate) fn read_small(file: File, max: u64) -> Result<String, SmallTextError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| SmallTextError::Io)?;
    if bytes.len() as u64 > max {
        return Err(SmallTextError::TooLong);
    }
    String::from_utf8(bytes).map_err(|_| SmallTextError::NotUtf8)
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
        if !is_ours(&metadata) {
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
        type Open = fn(&Path) -> Result<File, OpenError>;
        let opens: [(&str, Open); 3] = [
            ("open_file", open_file),
            ("open_dir", open_dir),
            ("open_append", open_append),
        ];
        for (name, open) in opens {
            let refused = open(&link).err();
            assert_eq!(
                refused,
                Some(OpenError::Refused(Refusal::Symlink)),
                "{name}"
            );
        }

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o620)).unwrap();
        let missing = dir.join("missing");
        use OpenError::{Missing, Refused};
        let cases = [
            (
                open_file(&file).err(),
                Some(Refused(Refusal::WritableByOthers)),
            ),
            (open_dir(&file).err(), Some(Refused(Refusal::NotADir))),
            (open_file(&dir).err(), Some(Refused(Refusal::NotAFile))),
            (open_file(&missing).err(), Some(Missing)),
        ];
        for (n, (got, want)) in cases.into_iter().enumerate() {
            assert_eq!(got, want, "case {n}");
        }
    }
}
