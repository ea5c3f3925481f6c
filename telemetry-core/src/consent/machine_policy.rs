//! Machine policy files: what an administrator allows on this machine.
//! They can only restrict; the most restrictive file, and the most
//! restrictive line in it, wins over every variable, the remembered choice
//! and the app's CI policy.
//!
//! Where (fixed paths; no variable moves them, so a user cannot point
//! them elsewhere):
//!
//! | OS | every app built with the toolkit | one app |
//! |---|---|---|
//! | Linux and other Unix | `/etc/telemetry-policy` | `/etc/<app>/telemetry-policy` |
//! | macOS | `/Library/Application Support/telemetry-policy` | `/Library/Application Support/<app>/telemetry-policy` |
//! | Windows | `C:\ProgramData\telemetry-policy` | `C:\ProgramData\<app>\telemetry-policy` |
//!
//! Format: `key = value` lines; `#` starts a comment (whole line or the
//! rest of one); blank lines are ignored. Key `level`, value `off`,
//! `local`, `errors` or `all` (any case). Other keys are ignored (room for
//! later ones). A file without `level` restricts nothing.
//!
//! A file that exists but cannot be trusted turns telemetry off, and
//! `status` names it: it cannot be read (permission, a FIFO, a dir, more
//! than 64 KiB, not UTF-8), on Unix it is not owned by root or is writable
//! by others (group-writable counts unless the group is root's), or it
//! holds a line without `=` or a `level` that is not one of the four.
//! On Windows the file's ACL is not checked.
//!
//! Tests point the reader at another directory
//! ([`TelemetryBuilder::policy_dir`](crate::TelemetryBuilder::policy_dir)):
//! there `<dir>/telemetry-policy` and `<dir>/<app>/telemetry-policy`, and a
//! file of the current user is accepted as well as root's.

use super::level::Level;
use crate::files;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// A policy file's name.
pub const POLICY_FILE: &str = "telemetry-policy";
/// Longer files are not read.
const MAX_LEN: u64 = 64 * 1024;

/// Where policy files are looked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum PolicyDirs {
    /// The system's fixed paths (the module's table).
    #[default]
    System,
    /// A test's directory: files of the current user are accepted too.
    At(PathBuf),
}

impl PolicyDirs {
    /// The files that may hold a policy for `app` (an app name that cannot
    /// name a path gets only the global file).
    pub(crate) fn files(&self, app: &str, app_ok: bool) -> Vec<PathBuf> {
        let base = match self {
            PolicyDirs::At(dir) => dir.clone(),
            PolicyDirs::System => system_dir(),
        };
        let mut files = vec![base.join(POLICY_FILE)];
        if app_ok {
            files.push(base.join(app).join(POLICY_FILE));
        }
        files
    }
}

#[cfg(target_os = "macos")]
fn system_dir() -> PathBuf {
    PathBuf::from("/Library/Application Support")
}

#[cfg(windows)]
fn system_dir() -> PathBuf {
    PathBuf::from(r"C:\ProgramData")
}

#[cfg(not(any(target_os = "macos", windows)))]
fn system_dir() -> PathBuf {
    PathBuf::from("/etc")
}

/// Why a policy file that exists cannot be trusted (telemetry is then off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyProblem {
    /// It could not be opened or read (permission, not a regular file, too
    /// long, not UTF-8).
    Unreadable,
    /// It is not owned by root (or, for a test's directory, this user).
    NotRoot,
    /// Users other than root may write to it.
    WritableByOthers,
    /// A line (its number) is neither a comment nor `key = value`.
    Malformed(usize),
    /// A `level` (on this line) is not `off`, `local`, `errors` or `all`.
    UnknownLevel(usize),
}

impl fmt::Display for PolicyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyProblem::Unreadable => f.write_str("cannot be read"),
            PolicyProblem::NotRoot => f.write_str("is not owned by root"),
            PolicyProblem::WritableByOthers => f.write_str("is writable by users other than root"),
            PolicyProblem::Malformed(line) => {
                write!(f, "has a line ({line}) that is not `key = value`")
            }
            PolicyProblem::UnknownLevel(line) => write!(
                f,
                "has a level (line {line}) that is not off, local, errors or all"
            ),
        }
    }
}

/// What the policy files say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Policy {
    /// No file restricts: none exists, or none sets `level`.
    None,
    /// The most restrictive level set, and the file that set it.
    Level { level: Level, file: PathBuf },
    /// A file that cannot be trusted: off.
    Untrusted {
        file: PathBuf,
        problem: PolicyProblem,
    },
}

impl Policy {
    /// The level the policy allows at most (`Off` when untrusted); `None`:
    /// no restriction.
    pub(crate) fn level(&self) -> Option<Level> {
        match self {
            Policy::None => None,
            Policy::Level { level, .. } => Some(*level),
            Policy::Untrusted { .. } => Some(Level::Off),
        }
    }

    /// The file that decided, if any.
    pub(crate) fn file(&self) -> Option<&Path> {
        match self {
            Policy::None => None,
            Policy::Level { file, .. } | Policy::Untrusted { file, .. } => Some(file),
        }
    }
}

/// Reads every policy file for `app`: the first untrusted one wins, else
/// the most restrictive level.
pub(crate) fn read(dirs: &PolicyDirs, app: &str, app_ok: bool) -> Policy {
    let accept_own = matches!(dirs, PolicyDirs::At(_));
    let mut found = Policy::None;
    for file in dirs.files(app, app_ok) {
        match read_file(&file, accept_own) {
            Ok(None) => {}
            Ok(Some(level)) => {
                let stricter = found.level().is_none_or(|known| level < known);
                if stricter {
                    found = Policy::Level { level, file };
                }
            }
            Err(problem) => return Policy::Untrusted { file, problem },
        }
    }
    found
}

/// One file's level: `Ok(None)` when it is missing or sets none.
fn read_file(path: &Path, accept_own: bool) -> Result<Option<Level>, PolicyProblem> {
    let file = match open(path) {
        Ok(file) => file,
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None)
        }
        Err(_) => return Err(PolicyProblem::Unreadable),
    };
    let metadata = file.metadata().map_err(|_| PolicyProblem::Unreadable)?;
    if !metadata.is_file() {
        return Err(PolicyProblem::Unreadable);
    }
    check_owner(&metadata, accept_own)?;
    let text = files::read_small(file, MAX_LEN).map_err(|_| PolicyProblem::Unreadable)?;
    parse(&text)
}

/// Opens without blocking on a FIFO or device (a link is followed: the
/// checks are made on the file it names).
fn open(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        libc::O_NONBLOCK | libc::O_NOCTTY,
    );
    options.open(path)
}

#[cfg(unix)]
fn check_owner(metadata: &std::fs::Metadata, accept_own: bool) -> Result<(), PolicyProblem> {
    use std::os::unix::fs::MetadataExt;
    let uid = metadata.uid();
    if uid != 0 && !(accept_own && uid == crate::files::effective_uid()) {
        return Err(PolicyProblem::NotRoot);
    }
    let mode = metadata.mode();
    let group_writable = mode & 0o020 != 0 && metadata.gid() != 0;
    if mode & 0o002 != 0 || group_writable {
        return Err(PolicyProblem::WritableByOthers);
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner(_metadata: &std::fs::Metadata, _accept_own: bool) -> Result<(), PolicyProblem> {
    Ok(())
}

/// The most restrictive `level` in a policy's text.
pub(crate) fn parse(text: &str) -> Result<Option<Level>, PolicyProblem> {
    let mut level: Option<Level> = None;
    for (index, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let number = index + 1;
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(PolicyProblem::Malformed(number));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(PolicyProblem::Malformed(number));
        }
        if key.eq_ignore_ascii_case("level") {
            let read = Level::parse(value).ok_or(PolicyProblem::UnknownLevel(number))?;
            level = Some(level.map_or(read, |known| known.min(read)));
        }
    }
    Ok(level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format() {
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse("# only a comment\n\n"), Ok(None));
        assert_eq!(parse("level = errors\n"), Ok(Some(Level::Errors)));
        assert_eq!(
            parse("  LEVEL=Off # no telemetry here\n"),
            Ok(Some(Level::Off))
        );
        assert_eq!(
            parse("level = all\nlevel = local\n"),
            Ok(Some(Level::Local))
        );
        assert_eq!(parse("other = thing\n"), Ok(None));
        assert_eq!(parse("\u{feff}level = errors"), Ok(Some(Level::Errors)));
        assert_eq!(parse("level errors\n"), Err(PolicyProblem::Malformed(1)));
        assert_eq!(parse("# x\n= off\n"), Err(PolicyProblem::Malformed(2)));
        assert_eq!(
            parse("level = all\nlevel = some\n"),
            Err(PolicyProblem::UnknownLevel(2))
        );
    }

    #[test]
    fn the_paths_are_fixed_and_the_app_is_joined_only_when_valid() {
        let files = PolicyDirs::System.files("agent", true);
        assert_eq!(files.len(), 2);
        assert!(files[0].ends_with(POLICY_FILE));
        assert!(files[1].ends_with(Path::new("agent").join(POLICY_FILE)));
        #[cfg(all(unix, not(target_os = "macos")))]
        assert_eq!(files[0], Path::new("/etc/telemetry-policy"));
        assert_eq!(PolicyDirs::System.files("../x", false).len(), 1);
    }
}
