//! Helpers shared by the reliability, security and privacy suite
//! (`faults.rs`, `load.rs`, `bad_input.rs`, `security.rs`, ...). Each test
//! file includes this one with `#[path = "support/reliability.rs"] mod reliability;`.

#![allow(dead_code)]

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// A debug log that a test can read back: give a clone to
/// `TelemetryBuilder::debug_writer` and keep the other.
#[derive(Clone, Default)]
pub struct DebugCapture(Arc<Mutex<Vec<u8>>>);

impl DebugCapture {
    pub fn new() -> DebugCapture {
        DebugCapture::default()
    }

    /// Everything written so far (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }

    /// The lines written so far.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }

    /// How many lines contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.lines()
            .iter()
            .filter(|line| line.contains(needle))
            .count()
    }
}

impl Write for DebugCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A fresh, empty directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "telemetry-reliability-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loopback port with nothing listening: connecting to it is refused.
pub fn refused_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a loopback port")
}

/// Listens on a port and counts the connections made to it, without
/// answering: proof that a sender did, or did not, open a socket.
pub struct PortWatch {
    listener: TcpListener,
    seen: AtomicUsize,
}

impl PortWatch {
    /// Listens on `addr` (a port that was refusing connections until now).
    pub fn bind(addr: SocketAddr) -> PortWatch {
        let listener = TcpListener::bind(addr).expect("listen on the refusing port again");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        PortWatch {
            listener,
            seen: AtomicUsize::new(0),
        }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        while self.listener.accept().is_ok() {
            self.seen.fetch_add(1, Ordering::Relaxed);
        }
        self.seen.load(Ordering::Relaxed)
    }
}

/// The threads of this process: their ids and names (Linux:
/// `/proc/self/task`), sorted by id.
pub fn threads() -> Vec<(u32, String)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut threads: Vec<(u32, String)> = tasks
        .filter_map(Result::ok)
        .filter_map(|task| {
            let id = task.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            Some((id, name.trim().to_owned()))
        })
        .collect();
    threads.sort();
    threads
}

/// The ids of this process's threads, sorted.
pub fn thread_ids() -> Vec<u32> {
    threads().into_iter().map(|(id, _)| id).collect()
}

/// Every file and directory under `root`, recursively (symlinks not followed).
pub fn tree(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                stack.push(path.clone());
            }
            found.push(path);
        }
    }
    found.sort();
    found
}
