//! What the unit tests share: a fresh directory under the system temp dir,
//! removed (with its modes restored, so that a test may have made it
//! read-only) when dropped, and an environment made of a few pairs. The
//! integration tests use the support crate instead.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

/// A fresh dir, removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = fs::set_permissions(&self.0, fs::Permissions::from_mode(0o700));
        }
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A fresh dir named for `name` and a random suffix.
pub(crate) fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!(
        "telemetry-unit-{name}-{}",
        crate::record::random::format_uuid(crate::record::random::uuid_v4())
    ));
    fs::create_dir_all(&dir).expect("a temp dir");
    TempDir(dir)
}

/// Plants a symbolic link at `link` to a file `victim` beside it, which
/// holds `contents`; returns the victim's path, to check it is untouched.
#[cfg(unix)]
pub(crate) fn plant_link(link: &Path, contents: &str) -> PathBuf {
    let victim = link.with_file_name("victim");
    fs::write(&victim, contents).expect("the victim file");
    std::os::unix::fs::symlink(&victim, link).expect("the planted link");
    victim
}

/// An environment lookup that knows only `pairs`.
pub(crate) fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
    let pairs: Vec<(String, OsString)> = pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), OsString::from(value)))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }
}
