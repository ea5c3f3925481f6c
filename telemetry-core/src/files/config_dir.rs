//! The config dir: its default on every platform, and the one gate that
//! decides whether a dir may be used at all. Also `os_language` when the
//! locale variables are unset.
//!
//! [`open_config_dir`] is the gate: it refuses a config dir that is a
//! symlink, not ours, or writable by other users ([`ConfigDirRefused`]:
//! telemetry is off for that run), creates a missing one with mode 0700 and
//! checks the result, and reports "no config dir" ([`NoConfigDir`]) when
//! there is none, it cannot be created, or the process runs as root on
//! behalf of another user (`sudo -E`): nothing is then written as root in
//! that user's dir.
//!
//! Config dir, first that applies:
//!
//! 1. `$XDG_CONFIG_HOME/<app>`, when `XDG_CONFIG_HOME` is an absolute path
//!    (on every platform, so a user can point every tool at one place);
//! 2. Windows: `%APPDATA%\<app>`, else `%USERPROFILE%\AppData\Roaming\<app>`;
//! 3. everywhere else, macOS included: `$HOME/.config/<app>`, and when
//!    `HOME` is unset, empty or relative (some service managers and `sudo`
//!    setups), the home dir of the user's passwd entry.
//!
//! macOS uses `~/.config`, not `~/Library/Application Support`: that is
//! where the toolkit has always kept its files there (moving it would show
//! every Mac user the notice again under a new id), and where CLI users
//! look (gh, git, and most XDG-aware tools do the same).
//!
//! `os_language`: `LC_ALL`, then `LC_MESSAGES`, then `LANG`; when all are
//! unset or empty, the first entry of GNU `LANGUAGE` (`de_DE:en` → `de_DE`);
//! else empty. Only the language and region are kept (`en_US.UTF-8` →
//! `en_US`); `C`, `POSIX` and anything unexpected give empty.

use crate::files::{self, OpenError, Refusal};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// The platform whose rules apply (a parameter, so that every platform's
/// rules are tested on any host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TargetOs {
    /// Windows.
    Windows,
    /// macOS.
    MacOs,
    /// Linux, the BSDs and other Unix systems.
    Unix,
}

impl TargetOs {
    /// The platform this program was built for.
    pub(crate) fn current() -> TargetOs {
        if cfg!(windows) {
            TargetOs::Windows
        } else if cfg!(target_os = "macos") {
            TargetOs::MacOs
        } else {
            TargetOs::Unix
        }
    }
}

/// The default config dir for `app`, or `None` when no rule applies.
/// `passwd_home` is asked only when `HOME` cannot be used
/// (pass [`passwd_home`]).
pub(crate) fn default_config_dir(
    app: &str,
    os: TargetOs,
    env: &dyn Fn(&str) -> Option<OsString>,
    passwd_home: &dyn Fn() -> Option<PathBuf>,
) -> Option<PathBuf> {
    let absolute = |name: &str| env(name).filter(|value| is_absolute(os, value));
    if let Some(xdg) = absolute("XDG_CONFIG_HOME") {
        return Some(join(os, xdg, &[app]));
    }
    match os {
        TargetOs::Windows => absolute("APPDATA")
            .map(|appdata| join(os, appdata, &[app]))
            .or_else(|| {
                absolute("USERPROFILE").map(|home| join(os, home, &["AppData", "Roaming", app]))
            }),
        TargetOs::MacOs | TargetOs::Unix => absolute("HOME")
            .or_else(|| passwd_home().map(PathBuf::into_os_string))
            .filter(|home| is_absolute(os, home))
            .map(|home| join(os, home, &[".config", app])),
    }
}

/// Absolute by the target's rules: `/...` on Unix; `C:\...`, `C:/...` or a
/// UNC `\\server\share` on Windows.
fn is_absolute(os: TargetOs, path: &OsStr) -> bool {
    let Some(text) = path.to_str() else {
        // Non-UTF-8: fine on Unix when it starts with '/'.
        return os != TargetOs::Windows && path.as_encoded_bytes().first() == Some(&b'/');
    };
    match os {
        TargetOs::Windows => {
            let bytes = text.as_bytes();
            let drive = bytes.len() >= 3
                && bytes[0].is_ascii_alphabetic()
                && bytes[1] == b':'
                && matches!(bytes[2], b'\\' | b'/');
            drive || text.starts_with(r"\\")
        }
        TargetOs::MacOs | TargetOs::Unix => text.starts_with('/'),
    }
}

/// Joins with the target's separator, so a Windows path built on Linux (in
/// tests) reads as it would on Windows.
fn join(os: TargetOs, base: OsString, parts: &[&str]) -> PathBuf {
    if os != TargetOs::Windows {
        let mut path = PathBuf::from(base);
        path.extend(parts);
        return path;
    }
    let mut text = base;
    for part in parts {
        let ends_with_separator = text
            .as_encoded_bytes()
            .last()
            .is_some_and(|byte| matches!(byte, b'\\' | b'/'));
        if !ends_with_separator {
            text.push("\\");
        }
        text.push(part);
    }
    PathBuf::from(text)
}

/// The home dir in the passwd entry of the effective user (`getpwuid_r`).
#[cfg(unix)]
pub(crate) fn passwd_home() -> Option<PathBuf> {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStrExt;
    let mut buffer = vec![0_u8; 4096];
    loop {
        // SAFETY: passwd is plain data, for which all zeroes is a value.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: getpwuid_r writes into `entry` and into `buffer`, whose
        // length we pass, and sets `result` to `entry` or null.
        let status = unsafe {
            libc::getpwuid_r(
                libc::geteuid(),
                &raw mut entry,
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                &raw mut result,
            )
        };
        if status == libc::ERANGE && buffer.len() < 1 << 20 {
            buffer.resize(buffer.len() * 4, 0);
            continue;
        }
        if status != 0 || result.is_null() || entry.pw_dir.is_null() {
            return None;
        }
        // SAFETY: pw_dir points into `buffer`, NUL-terminated, still alive.
        let dir = unsafe { CStr::from_ptr(entry.pw_dir) };
        let dir = OsStr::from_bytes(dir.to_bytes());
        return (!dir.is_empty()).then(|| PathBuf::from(dir));
    }
}

/// No passwd database off Unix.
#[cfg(not(unix))]
pub(crate) fn passwd_home() -> Option<PathBuf> {
    None
}

/// `os_language` by the rules in the module docs.
pub(crate) fn os_language(env: &dyn Fn(&str) -> Option<OsString>) -> String {
    let set = |name: &str| env(name).filter(|value| !value.is_empty());
    if let Some(locale) = ["LC_ALL", "LC_MESSAGES", "LANG"].into_iter().find_map(set) {
        return locale.to_str().map(language_and_region).unwrap_or_default();
    }
    set("LANGUAGE")
        .as_deref()
        .and_then(OsStr::to_str)
        .and_then(|list| list.split(':').find(|entry| !entry.is_empty()))
        .map(language_and_region)
        .unwrap_or_default()
}

/// `en_US.UTF-8@euro` → `en_US`; anything unexpected → empty.
fn language_and_region(locale: &str) -> String {
    let base = locale.split(['.', '@']).next().unwrap_or_default();
    let valid = !base.is_empty()
        && base.len() <= 16
        && base
            .bytes()
            .all(|byte| byte.is_ascii_alphabetic() || byte == b'_' || byte == b'-');
    if valid && base != "C" && base != "POSIX" {
        base.to_owned()
    } else {
        String::new()
    }
}

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

/// What is at a config dir's path, as [`inspect_config_dir`] found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirState {
    /// A dir of ours that no other user may write to.
    Ours {
        /// This process may create files in it.
        writable: bool,
    },
    /// Nothing yet; this process may create it.
    Missing,
}

/// The one gate on a config dir, asked without creating or writing
/// anything: a dir of ours (writable or not), nothing yet that this process
/// may create, or why it cannot be used. Both the decision and
/// [`open_config_dir`] ask it.
pub(crate) fn inspect_config_dir(path: &Path) -> Result<DirState, NoConfigDir> {
    match files::open_dir(path) {
        Ok(_) => Ok(DirState::Ours {
            writable: files::may_create_in(path),
        }),
        // A file where the dir should be: nothing to use, nothing to fear.
        Err(OpenError::Refused(Refusal::NotADir)) => {
            Err(NoConfigDir::Unusable(ErrorKind::NotADirectory))
        }
        Err(OpenError::Refused(why)) => Err(NoConfigDir::Refused(ConfigDirRefused {
            item: ConfigItem::Dir,
            why,
        })),
        Err(OpenError::Missing) => {
            // `create_dir` makes the missing parents too: the nearest one
            // that exists decides.
            let parent = path
                .ancestors()
                .skip(1)
                .find(|parent| std::fs::symlink_metadata(parent).is_ok());
            match parent.map(std::fs::metadata) {
                Some(Ok(meta)) if meta.is_dir() && files::may_create_in(parent.unwrap_or(path)) => {
                    Ok(DirState::Missing)
                }
                Some(Ok(meta)) if !meta.is_dir() => {
                    Err(NoConfigDir::Unusable(ErrorKind::NotADirectory))
                }
                Some(Err(error)) => Err(NoConfigDir::Unusable(error.kind())),
                _ => Err(NoConfigDir::Unusable(ErrorKind::PermissionDenied)),
            }
        }
        Err(OpenError::Io(kind)) => Err(NoConfigDir::Unusable(kind)),
    }
}

/// Checks the config dir at `path` ([`inspect_config_dir`]) and creates it
/// (mode 0700) when missing.
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
    if inspect_config_dir(path)? == DirState::Missing {
        files::create_dir(path).map_err(|error| NoConfigDir::Unusable(error.kind()))?;
        // Check what is there now, not what was meant to be created.
        if let DirState::Missing = inspect_config_dir(path)? {
            return Err(NoConfigDir::Unusable(ErrorKind::NotFound));
        }
    }
    Ok(CheckedConfigDir {
        path: path.to_path_buf(),
    })
}

#[cfg(unix)]
pub(crate) fn elevated_for_another_user(home: Option<&Path>, sudo_uid_set: bool) -> bool {
    use std::os::unix::fs::MetadataExt;
    if files::effective_uid() != 0 {
        return false;
    }
    sudo_uid_set
        || home
            .and_then(|home| std::fs::metadata(home).ok())
            .is_some_and(|home| home.uid() != 0)
}

#[cfg(not(unix))]
pub(crate) fn elevated_for_another_user(_home: Option<&Path>, _sudo_uid_set: bool) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::env_of;

    fn dir(os: TargetOs, pairs: &[(&str, &str)], passwd: Option<&str>) -> Option<String> {
        let passwd = passwd.map(PathBuf::from);
        default_config_dir("agent", os, &env_of(pairs), &|| passwd.clone())
            .map(|path| path.to_string_lossy().into_owned())
    }

    #[test]
    fn an_absolute_xdg_config_home_wins_everywhere() {
        let unix = [
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/h"),
            ("APPDATA", r"C:\A"),
        ];
        assert_eq!(
            dir(TargetOs::Unix, &unix, None).as_deref(),
            Some("/x/agent")
        );
        assert_eq!(
            dir(TargetOs::MacOs, &unix, None).as_deref(),
            Some("/x/agent")
        );
        let windows = [("XDG_CONFIG_HOME", r"D:\cfg"), ("APPDATA", r"C:\A")];
        assert_eq!(
            dir(TargetOs::Windows, &windows, None).as_deref(),
            Some(r"D:\cfg\agent")
        );
        // Relative (or, on Windows, Unix-style) XDG values are skipped.
        let relative = [("XDG_CONFIG_HOME", "rel"), ("HOME", "/h")];
        assert_eq!(
            dir(TargetOs::Unix, &relative, None).as_deref(),
            Some("/h/.config/agent")
        );
        let unix_style = [("XDG_CONFIG_HOME", "/c/cfg"), ("APPDATA", r"C:\A\")];
        assert_eq!(
            dir(TargetOs::Windows, &unix_style, None).as_deref(),
            Some(r"C:\A\agent")
        );
    }

    #[test]
    fn windows_uses_appdata_then_the_profile() {
        let appdata = [("APPDATA", r"C:\Users\u\AppData\Roaming"), ("HOME", "/h")];
        assert_eq!(
            dir(TargetOs::Windows, &appdata, Some("/p")).as_deref(),
            Some(r"C:\Users\u\AppData\Roaming\agent")
        );
        let profile = [("USERPROFILE", r"C:\Users\u")];
        assert_eq!(
            dir(TargetOs::Windows, &profile, None).as_deref(),
            Some(r"C:\Users\u\AppData\Roaming\agent")
        );
        let unc = [("APPDATA", r"\\server\share\u")];
        assert_eq!(
            dir(TargetOs::Windows, &unc, None).as_deref(),
            Some(r"\\server\share\u\agent")
        );
        // Today's failure: nothing set on Windows → no dir (and HOME is not a Windows rule).
        assert_eq!(dir(TargetOs::Windows, &[("HOME", "/h")], Some("/p")), None);
        assert_eq!(
            dir(TargetOs::Windows, &[("APPDATA", "relative")], None),
            None
        );
    }

    #[test]
    fn macos_and_unix_use_home_dot_config() {
        for os in [TargetOs::MacOs, TargetOs::Unix] {
            assert_eq!(
                dir(os, &[("HOME", "/Users/u")], None).as_deref(),
                Some("/Users/u/.config/agent")
            );
        }
    }

    #[test]
    fn without_a_usable_home_the_passwd_entry_is_used() {
        for env in [&[][..], &[("HOME", "")][..], &[("HOME", "relative")][..]] {
            assert_eq!(
                dir(TargetOs::Unix, env, Some("/home/from-passwd")).as_deref(),
                Some("/home/from-passwd/.config/agent"),
                "{env:?}"
            );
            assert_eq!(dir(TargetOs::Unix, env, None), None);
            assert_eq!(dir(TargetOs::Unix, env, Some("not-absolute")), None);
        }
        // A usable HOME is preferred over the passwd entry.
        assert_eq!(
            dir(TargetOs::Unix, &[("HOME", "/h")], Some("/p")).as_deref(),
            Some("/h/.config/agent")
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn passwd_home_matches_the_passwd_file() {
        // SAFETY: geteuid has no preconditions.
        let uid = unsafe { libc::geteuid() }.to_string();
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let from_file = passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.len() >= 7 && fields[2] == uid).then(|| PathBuf::from(fields[5]))
        });
        // With NSS sources besides files the entry may come from elsewhere;
        // when the file has it, getpwuid_r must agree.
        if let Some(expected) = from_file {
            assert_eq!(passwd_home(), Some(expected));
        }
    }

    #[test]
    fn current_matches_the_build_target() {
        let expected = if cfg!(windows) {
            TargetOs::Windows
        } else if cfg!(target_os = "macos") {
            TargetOs::MacOs
        } else {
            TargetOs::Unix
        };
        assert_eq!(TargetOs::current(), expected);
    }

    #[test]
    fn os_language_order_and_fallback() {
        let lang = |pairs: &[(&str, &str)]| os_language(&env_of(pairs));
        assert_eq!(
            lang(&[("LANG", "en_US.UTF-8"), ("LC_ALL", "de_DE@euro")]),
            "de_DE"
        );
        assert_eq!(
            lang(&[("LANG", "fr_FR.UTF-8"), ("LC_MESSAGES", "")]),
            "fr_FR"
        );
        assert_eq!(lang(&[("LANGUAGE", "pt_BR:pt:en")]), "pt_BR");
        assert_eq!(lang(&[("LANGUAGE", ":es")]), "es");
        // LANGUAGE is a fallback only: a set locale wins, even C.
        assert_eq!(lang(&[("LANG", "C.UTF-8"), ("LANGUAGE", "de")]), "");
        assert_eq!(lang(&[]), "");
        assert_eq!(lang(&[("LANG", "/etc/passwd")]), "");
    }

    mod gate {
        use super::super::*;
        use crate::files::notice_marker::{claim_notice, NoticeMarker, NOTICE_MARKER_FILE};
        use crate::files::user_id::{user_uuid, USER_UUID_FILE};
        use crate::record::random;
        use crate::test_support::temp_dir;
        use std::fs;

        fn open(dir: &Path) -> Result<CheckedConfigDir, NoConfigDir> {
            open_config_dir(Some(dir), None, false)
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
            let refused = |item| ConfigDirRefused {
                item,
                why: Refusal::WritableByOthers,
            };
            assert_eq!(user_uuid(Some(&config)), Err(refused(ConfigItem::UserUuid)));
            assert_eq!(
                claim_notice(Some(&config), 1),
                Err(refused(ConfigItem::NoticeMarker))
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
            assert_eq!(claim_notice(None, 1), Ok(NoticeMarker::ShowEveryRun));
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
}
