//! Fresh temporary directories, removed on drop.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh, empty directory under the system temp dir, removed (with all
/// it holds) on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `<temp>/telemetry-<label>-<pid>-<nanos>-<n>`. Panics if it
    /// cannot.
    pub fn new(label: &str) -> TempDir {
        TempDir::try_new(label).expect("create a fresh temp dir")
    }

    /// [`TempDir::new`], returning the error instead of panicking. The dir
    /// is created with `create_dir` (never an existing one): a name that is
    /// taken is retried with the next number.
    pub fn try_new(label: &str) -> io::Result<TempDir> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let base = std::env::temp_dir();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let mut last = None;
        for _ in 0..100 {
            let dir = base.join(format!(
                "telemetry-{label}-{}-{nanos:x}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last = Some(error),
                Err(error) => return Err(error),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free temp dir name")))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside this dir (which need not exist).
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
