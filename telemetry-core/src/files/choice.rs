//! The remembered choice: `telemetry disable` / `telemetry enable`, kept in
//! the app's config dir, and `telemetry reset-id`.
//!
//! The choice is one word (`enabled`, `disabled`, `errors-only` or
//! `local-only`) in [`CHOICE_FILE`], mode
//! 0600; a leading byte-order mark, whitespace around the word and its case
//! do not matter. Reading never follows a symlink (`O_NOFOLLOW`) and checks
//! the open handle (`fstat`). A file that cannot be trusted — a link, a
//! directory or other non-file, a file owned by someone else or writable by
//! group or others, unreadable, empty, or holding neither word — is a
//! [`ChoiceNote`]: the decision turns telemetry off for it, whatever the
//! variables say (a `disabled` file that a dotfile manager linked in is
//! still an opt-out), and `status` names the file. Writing goes to a fresh temporary file (`create_new`, 0600) in the
//! same dir, renamed over the old name: a link planted at the name is
//! replaced, never written through, and a reader sees the old word or the
//! new one, never half of one ([`files::replace`]).

use crate::files::config_dir::{self, NoConfigDir};
use crate::files::user_id::USER_UUID_FILE;
use crate::files::{self, OpenError, Refusal, SmallTextError};
use std::fmt;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// The remembered choice's file name in the config dir.
pub const CHOICE_FILE: &str = "telemetry-choice";

const ENABLED: &str = "enabled";
const DISABLED: &str = "disabled";
const ERRORS_ONLY: &str = "errors-only";
const LOCAL_ONLY: &str = "local-only";
/// Longer contents cannot be a choice; reading stops here.
const MAX_LEN: u64 = 64;

/// What the user chose with `telemetry enable` / `telemetry disable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Choice {
    /// `telemetry enable`: on, unless a variable says otherwise.
    Enabled,
    /// `telemetry disable`: off, unless a variable says otherwise.
    Disabled,
    /// `telemetry enable --errors-only`: on at the `errors` level (only
    /// failures are sent), unless a variable says otherwise.
    ErrorsOnly,
    /// `telemetry enable --local-only`: on at the `local` level (records
    /// are kept in the local history, never sent), unless a variable says
    /// otherwise.
    LocalOnly,
    /// No choice remembered: there is no file.
    None,
}

/// Why a choice file cannot be trusted (telemetry is then off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChoiceNote {
    /// The file holds none of `enabled`, `disabled`, `errors-only` and
    /// `local-only`.
    Corrupt,
    /// The file is empty.
    Empty,
    /// A symbolic link is at the file's name; it is not followed.
    Symlink,
    /// Something other than a regular file (a directory, a pipe) is there.
    NotAFile,
    /// The file belongs to another user, or group or others may write it.
    NotOurs,
    /// The file could not be opened or read.
    Unreadable,
}

impl fmt::Display for ChoiceNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChoiceNote::Corrupt => "holds none of enabled, disabled, errors-only and local-only",
            ChoiceNote::Empty => "is empty",
            ChoiceNote::Symlink => "is a symbolic link (it is not followed)",
            ChoiceNote::NotAFile => "is not a regular file",
            ChoiceNote::NotOurs => "belongs to another user or is writable by others",
            ChoiceNote::Unreadable => "cannot be read",
        })
    }
}

/// Saving the choice, or removing the id, failed.
#[derive(Debug)]
pub struct ChoiceError {
    action: &'static str,
    dir: PathBuf,
    source: std::io::Error,
}

impl ChoiceError {
    pub(crate) fn new(action: &'static str, dir: &Path, source: std::io::Error) -> ChoiceError {
        ChoiceError {
            action,
            dir: dir.to_owned(),
            source,
        }
    }

    /// The underlying I/O error's kind.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.source.kind()
    }
}

impl fmt::Display for ChoiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not {} in {}: {}; make sure the directory is yours and writable \
             (or use the environment variable, e.g. DO_NOT_TRACK=1)",
            self.action,
            self.dir.display(),
            self.source
        )
    }
}

impl std::error::Error for ChoiceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Remembers "off" in `dir` (created, mode 0700, if missing).
///
/// # Errors
///
/// [`ChoiceError`] when the dir or the file cannot be written.
pub fn disable(dir: &Path) -> Result<(), ChoiceError> {
    write_choice(dir, DISABLED).map_err(|error| ChoiceError::new("save the choice", dir, error))
}

/// Remembers "on" in `dir` (created, mode 0700, if missing).
///
/// # Errors
///
/// [`ChoiceError`] when the dir or the file cannot be written.
pub fn enable(dir: &Path) -> Result<(), ChoiceError> {
    write_choice(dir, ENABLED).map_err(|error| ChoiceError::new("save the choice", dir, error))
}

/// Remembers "on, failures only" in `dir` (created, mode 0700, if
/// missing): `telemetry enable --errors-only`.
///
/// # Errors
///
/// [`ChoiceError`] when the dir or the file cannot be written.
pub fn enable_errors_only(dir: &Path) -> Result<(), ChoiceError> {
    write_choice(dir, ERRORS_ONLY).map_err(|error| ChoiceError::new("save the choice", dir, error))
}

/// Remembers "on, kept on this machine only" in `dir` (created, mode 0700,
/// if missing): `telemetry enable --local-only`.
///
/// # Errors
///
/// [`ChoiceError`] when the dir or the file cannot be written.
pub fn enable_local_only(dir: &Path) -> Result<(), ChoiceError> {
    write_choice(dir, LOCAL_ONLY).map_err(|error| ChoiceError::new("save the choice", dir, error))
}

/// The choice remembered in `dir` ([`Choice::None`] when there is no
/// file).
///
/// # Errors
///
/// Why a file there cannot be trusted: the decision is then off.
pub fn read(dir: &Path) -> Result<Choice, ChoiceNote> {
    let Some(word) = read_word(&dir.join(CHOICE_FILE))? else {
        return Ok(Choice::None);
    };
    let word = word.trim_start_matches('\u{feff}').trim();
    if word.is_empty() {
        Err(ChoiceNote::Empty)
    } else if word.eq_ignore_ascii_case(ENABLED) {
        Ok(Choice::Enabled)
    } else if word.eq_ignore_ascii_case(DISABLED) {
        Ok(Choice::Disabled)
    } else if word.eq_ignore_ascii_case(ERRORS_ONLY) {
        Ok(Choice::ErrorsOnly)
    } else if word.eq_ignore_ascii_case(LOCAL_ONLY) {
        Ok(Choice::LocalOnly)
    } else {
        Err(ChoiceNote::Corrupt)
    }
}

/// Removes the anonymous id's file, so that the next run that sends makes a
/// new id. A missing file is not an error; a link at its name is removed,
/// not followed.
///
/// # Errors
///
/// [`ChoiceError`] when the file is there and cannot be removed.
pub fn reset_id(dir: &Path) -> Result<(), ChoiceError> {
    match fs::remove_file(dir.join(USER_UUID_FILE)) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(()),
        Err(error) => Err(ChoiceError::new("remove the anonymous id", dir, error)),
    }
}

/// The file's contents; `None` when there is no file. Opened once,
/// without following a link or blocking on a FIFO, and checked on the
/// handle ([`files::open_file`]).
fn read_word(path: &Path) -> Result<Option<String>, ChoiceNote> {
    let file = match files::open_file(path) {
        Ok(file) => file,
        Err(OpenError::Missing) => return Ok(None),
        Err(OpenError::Refused(Refusal::Symlink)) => return Err(ChoiceNote::Symlink),
        Err(OpenError::Refused(Refusal::NotAFile | Refusal::NotADir)) => {
            return Err(ChoiceNote::NotAFile)
        }
        Err(OpenError::Refused(_)) => return Err(ChoiceNote::NotOurs),
        Err(OpenError::Io(_)) => return Err(ChoiceNote::Unreadable),
    };
    match files::read_small(file, MAX_LEN) {
        Ok(text) => Ok(Some(text)),
        Err(SmallTextError::Io) => Err(ChoiceNote::Unreadable),
        Err(SmallTextError::TooLong | SmallTextError::NotUtf8) => Err(ChoiceNote::Corrupt),
    }
}

/// Writes the word in a config dir that passed the one gate (created 0700
/// when missing; refused when it is a link, not ours or writable by others).
fn write_choice(dir: &Path, word: &str) -> std::io::Result<()> {
    match config_dir::open_config_dir(Some(dir), None, false) {
        Ok(_) => {}
        Err(NoConfigDir::Refused(refused)) => {
            return Err(std::io::Error::other(refused.to_string()))
        }
        Err(NoConfigDir::Unusable(kind)) => return Err(kind.into()),
        Err(other) => return Err(std::io::Error::other(other.to_string())),
    }
    files::replace(dir, CHOICE_FILE, format!("{word}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    use crate::test_support::plant_link;
    use crate::test_support::temp_dir;

    #[test]
    fn no_file_is_no_choice_and_no_note() {
        let dir = temp_dir("none");
        assert_eq!(read(&dir), Ok(Choice::None));
        assert_eq!(read(&dir.join("missing/nested")), Ok(Choice::None));
    }

    #[test]
    fn disable_then_enable_round_trips() {
        let root = temp_dir("round");
        let dir = root.join("app");
        disable(&dir).unwrap();
        assert_eq!(read(&dir), Ok(Choice::Disabled));
        enable(&dir).unwrap();
        assert_eq!(read(&dir), Ok(Choice::Enabled));
        disable(&dir).unwrap();
        assert_eq!(read(&dir), Ok(Choice::Disabled));
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, [CHOICE_FILE]);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_0600_and_a_new_dir_0700() {
        use std::os::unix::fs::PermissionsExt;
        let root = temp_dir("modes");
        let dir = root.join("app");
        disable(&dir).unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.join(CHOICE_FILE)), 0o600);
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn empty_or_unknown_contents_cannot_be_trusted() {
        let dir = temp_dir("corrupt");
        let long = "disabled".repeat(20);
        for contents in [
            &b"maybe"[..],
            b"\xef\xbb\xbfdisabled!",
            &[0xff, 0xfe][..],
            long.as_bytes(),
        ] {
            fs::write(dir.join(CHOICE_FILE), contents).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(dir.join(CHOICE_FILE), fs::Permissions::from_mode(0o600))
                    .unwrap();
            }
            assert_eq!(read(&dir), Err(ChoiceNote::Corrupt), "{contents:?}");
        }
        for empty in [&b""[..], b" \r\n", b"\xef\xbb\xbf"] {
            fs::write(dir.join(CHOICE_FILE), empty).unwrap();
            assert_eq!(read(&dir), Err(ChoiceNote::Empty), "{empty:?}");
        }
        // Whitespace around the word, its case and a byte-order mark are
        // fine (an editor's newline, a Windows editor's BOM).
        fs::write(dir.join(CHOICE_FILE), " enabled\r\n").unwrap();
        assert_eq!(read(&dir), Ok(Choice::Enabled));
        fs::write(dir.join(CHOICE_FILE), "\u{feff}Disabled \r\n").unwrap();
        assert_eq!(read(&dir), Ok(Choice::Disabled));
        fs::write(dir.join(CHOICE_FILE), "DISABLED").unwrap();
        assert_eq!(read(&dir), Ok(Choice::Disabled));
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_is_not_followed_on_read_and_replaced_on_write() {
        let dir = temp_dir("symlink");
        let victim = plant_link(&dir.join(CHOICE_FILE), "disabled\n");
        assert_eq!(read(&dir), Err(ChoiceNote::Symlink));

        enable(&dir).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "disabled\n");
        let meta = fs::symlink_metadata(dir.join(CHOICE_FILE)).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(read(&dir), Ok(Choice::Enabled));
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_symlink_is_refused_too() {
        let dir = temp_dir("dangling");
        std::os::unix::fs::symlink(dir.join("nowhere"), dir.join(CHOICE_FILE)).unwrap();
        assert_eq!(read(&dir), Err(ChoiceNote::Symlink));
    }

    #[test]
    fn a_directory_at_the_path_is_no_choice_and_cannot_be_overwritten() {
        let dir = temp_dir("dir");
        fs::create_dir(dir.join(CHOICE_FILE)).unwrap();
        assert_eq!(read(&dir), Err(ChoiceNote::NotAFile));
        assert!(disable(&dir).is_err());
        assert!(dir.join(CHOICE_FILE).is_dir());
        let names: Vec<_> = fs::read_dir(&*dir).unwrap().collect();
        assert_eq!(names.len(), 1, "the temporary file was removed");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_at_the_path_does_not_hang() {
        let dir = temp_dir("fifo");
        let path = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(
            dir.join(CHOICE_FILE).as_os_str(),
        ))
        .unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
        assert_eq!(read(&dir), Err(ChoiceNote::NotAFile));
    }

    #[cfg(unix)]
    #[test]
    fn a_file_writable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("mode");
        let path = dir.join(CHOICE_FILE);
        fs::write(&path, "enabled\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(read(&dir), Err(ChoiceNote::NotOurs));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn an_unwritable_dir_is_an_error_that_says_what_to_do() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("readonly");
        fs::set_permissions(&*dir, fs::Permissions::from_mode(0o500)).unwrap();
        // Mode bits do not stop root; a procfs dir refuses new files to all.
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let target: &Path = if root { Path::new("/proc/1") } else { &dir };
        let error = disable(target).unwrap_err();
        if !root {
            assert_eq!(error.kind(), ErrorKind::PermissionDenied);
        }
        let message = error.to_string();
        assert!(message.contains("could not save the choice"), "{message}");
        assert!(message.contains("writable"), "{message}");
        assert_eq!(read(target), Ok(Choice::None));
        assert!(reset_id(target).is_ok(), "no id there: nothing to remove");
    }

    #[test]
    fn a_config_dir_that_is_a_file_is_an_error() {
        let root = temp_dir("file");
        let not_a_dir = root.join("plain");
        fs::write(&not_a_dir, "x").unwrap();
        assert!(enable(&not_a_dir).is_err());
        assert!(read(&not_a_dir).is_err());
    }

    #[test]
    fn reset_id_removes_the_id_file_only() {
        let dir = temp_dir("reset");
        let checked =
            || crate::files::config_dir::open_config_dir(Some(&dir), None, false).unwrap();
        let (first, _) = crate::files::user_id::user_uuid(Some(&checked())).unwrap();
        disable(&dir).unwrap();
        reset_id(&dir).unwrap();
        assert!(!dir.join(USER_UUID_FILE).exists());
        assert_eq!(read(&dir), Ok(Choice::Disabled), "the choice is kept");
        // Missing: still fine.
        reset_id(&dir).unwrap();
        let (second, _) = crate::files::user_id::user_uuid(Some(&checked())).unwrap();
        assert_ne!(first, second);
    }

    #[cfg(unix)]
    #[test]
    fn reset_id_removes_a_planted_link_not_its_target() {
        let dir = temp_dir("reset-link");
        let victim = plant_link(&dir.join(USER_UUID_FILE), "precious");
        reset_id(&dir).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert!(fs::symlink_metadata(dir.join(USER_UUID_FILE)).is_err());
    }

    #[test]
    fn reset_id_with_a_directory_there_is_an_error() {
        let dir = temp_dir("reset-dir");
        fs::create_dir(dir.join(USER_UUID_FILE)).unwrap();
        assert!(reset_id(&dir).is_err());
    }
}
