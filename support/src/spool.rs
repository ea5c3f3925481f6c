//! The background spool's files as a test sees them from outside: read
//! from the config dir by their documented format (docs/delivery.md, "The
//! spool"), never through the toolkit's own code, so that a test checks
//! what is on disk rather than what the reader thinks is there.
//!
//! A spool file is `telemetry-spool-<order>-<random>.jsonl` (`<order>`: 16
//! hex digits, so the names sort by write order). Each line is a wire
//! record or an acknowledgement `{"ack":["<event_id>", ...]}`; a record is
//! pending until an acknowledgement in its file names it.
//!
//! ```ignore
//! assert_eq!(spool::pending(&agent.config_dir()).len(), 8);
//! spool::write_leftover(&dir, 1_000, &lines); // what an earlier run left
//! ```

use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// A spool file's name starts with this.
pub const PREFIX: &str = "telemetry-spool-";
/// A spool file's name ends with this.
pub const SUFFIX: &str = ".jsonl";

/// The spool files in `config_dir`, oldest first (their names sort by
/// write order); none when the dir does not exist.
pub fn files(config_dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = crate::fs::entries(config_dir)
        .into_iter()
        .filter(|name| name.starts_with(PREFIX) && name.ends_with(SUFFIX))
        .map(|name| config_dir.join(name))
        .collect();
    files.sort();
    files
}

/// The pending records of every spool file in `config_dir`, oldest file
/// first, each as the JSON line it was spooled as. A line that is neither
/// a record nor an acknowledgement (a torn last line) is not a record.
pub fn pending(config_dir: &Path) -> Vec<String> {
    let mut pending = Vec::new();
    for file in files(config_dir) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let lines: Vec<(&str, Value)> = text
            .lines()
            .filter_map(|line| Some((line, serde_json::from_str(line).ok()?)))
            .collect();
        let acknowledged: HashSet<&str> = lines
            .iter()
            .filter_map(|(_, value)| value["ack"].as_array())
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        pending.extend(
            lines
                .iter()
                .filter(|(_, value)| {
                    value["properties"]["event_id"]
                        .as_str()
                        .is_some_and(|id| !acknowledged.contains(id))
                })
                .map(|(line, _)| (*line).to_owned()),
        );
    }
    pending
}

/// The `event_id`s of the [`pending`] records.
pub fn pending_ids(config_dir: &Path) -> Vec<String> {
    pending(config_dir)
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|record| record["properties"]["event_id"].as_str().map(str::to_owned))
        .collect()
}

/// Writes a spool file that no process holds, as a run that ended offline
/// leaves it: `lines` (wire records, one a line), mode 0600, named for
/// `order` so that it sorts among the others (a larger order is newer).
/// Creates `config_dir` if needed. Returns the file's path.
pub fn write_leftover(config_dir: &Path, order: u64, lines: &[String]) -> PathBuf {
    std::fs::create_dir_all(config_dir).expect("the config dir");
    let path = config_dir.join(format!("{PREFIX}{order:016x}-{order:016x}{SUFFIX}"));
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(&path, text).expect("a leftover spool file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    path
}

/// Waits (at most 30 s) until no file in `config_dir` is locked: a
/// dropped client's sender thread lets go of its live spool file when it
/// next wakes, which on a loaded machine can be after the next client has
/// looked for leftovers. A guard for a test's order, not a timing check.
pub fn wait_until_released(config_dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        for entry in std::fs::read_dir(config_dir)
            .into_iter()
            .flatten()
            .flatten()
        {
            let Ok(file) = std::fs::File::open(entry.path()) else {
                continue;
            };
            // SAFETY: `flock` on a descriptor `file` owns and keeps open.
            while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = config_dir;
}
