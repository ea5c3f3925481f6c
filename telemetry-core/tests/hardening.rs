//! Hostile environments and racing processes: first runs started together
//! (one notice, nothing sent, one `user_uuid`), config dirs and files that
//! someone else prepared (refused: off for that run), `sudo -E`, a FIFO at
//! the id path, and a planted link at the debug file.
//!
//! The racing runs are child processes of this test binary: each runs the
//! ignored test [`child_run`], which waits for a line on stdin so that all
//! of them have started before any of them builds its client.

#![cfg(unix)]

mod common;

use common::{SharedBuf, TempDir};
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use telemetry_collector::Collector;
use telemetry_core::{MemorySink, Telemetry, NOTICE_MARKER_FILE, USER_UUID_FILE};

const APP: &str = "hardening-test";
const NOTICE_START: &str = "hardening-test collects anonymous usage data";

/// Set for a child run: its config dir.
const CHILD_CONFIG_DIR: &str = "HARDENING_CHILD_CONFIG_DIR";
/// Set for a child run: the collector's URL.
const CHILD_ENDPOINT: &str = "HARDENING_CHILD_ENDPOINT";
/// Set to `0` for a child run without the notice.
const CHILD_NOTICE: &str = "HARDENING_CHILD_NOTICE";

/// One run of a program, as a child process of this test binary: waits
/// for a line on stdin, builds a client (the notice goes to stderr), records
/// one command. Does nothing unless run by the tests below.
#[test]
#[ignore = "a child process of the tests in this file"]
fn child_run() {
    let (Some(dir), Some(endpoint)) = (
        std::env::var_os(CHILD_CONFIG_DIR),
        std::env::var_os(CHILD_ENDPOINT),
    ) else {
        return;
    };
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    let notice = std::env::var_os(CHILD_NOTICE).is_none_or(|value| value != "0");
    let telemetry = Telemetry::builder(APP, "1.0.0")
        .endpoint(endpoint.to_string_lossy())
        .config_dir(PathBuf::from(dir))
        .notice(notice)
        .notice_writer(std::io::stderr())
        .timeout(Duration::from_secs(10))
        .env(|_| None)
        .build();
    telemetry.track_command("child", Vec::<String>::new());
}

/// Starts `count` child runs on `config_dir` and lets them go at once.
/// Returns each one's stderr.
fn run_together(
    count: usize,
    config_dir: &Path,
    collector: &Collector,
    notice: bool,
) -> Vec<String> {
    let exe = std::env::current_exe().unwrap();
    let mut children: Vec<Child> = (0..count)
        .map(|_| {
            let mut command = Command::new(&exe);
            command
                .args([
                    "--ignored",
                    "--exact",
                    "child_run",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_CONFIG_DIR, config_dir)
                .env(CHILD_ENDPOINT, collector.url())
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            if !notice {
                command.env(CHILD_NOTICE, "0");
            }
            command.spawn().unwrap()
        })
        .collect();
    // Every child has started: now let them build their clients.
    for child in &mut children {
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"go\n").unwrap();
    }
    children
        .into_iter()
        .map(|mut child| {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            let status = child.wait().unwrap();
            assert!(status.success(), "a child run failed: {stderr}");
            stderr
        })
        .collect()
}

/// Waits until the marker is older than the library's uncertainty about
/// file times and process starts, so that a run started now certainly
/// started after it: what "a later run" means.
fn wait_until_marker_is_old(marker: &Path) {
    let modified = std::fs::metadata(marker).unwrap().modified().unwrap();
    let whole_seconds = modified.duration_since(UNIX_EPOCH).unwrap().subsec_nanos() == 0;
    let age = if whole_seconds {
        Duration::from_millis(2100)
    } else {
        Duration::from_millis(100)
    };
    while SystemTime::now() < modified + age {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Regression: of 10 first runs started at once, one showed the notice and
/// the other 9 sent data in that same moment.
#[test]
fn first_runs_started_together_show_one_notice_and_send_nothing() {
    let collector = Collector::start().unwrap();
    let root = TempDir::new("together");
    let config_dir = root.join("config");

    let stderrs = run_together(10, &config_dir, &collector, true);
    let notices = stderrs.iter().filter(|s| s.contains(NOTICE_START)).count();
    assert_eq!(notices, 1, "{stderrs:#?}");
    assert_eq!(
        collector.requests().len(),
        0,
        "nothing sent by the first runs"
    );

    wait_until_marker_is_old(&config_dir.join(NOTICE_MARKER_FILE));
    let later = run_together(1, &config_dir, &collector, true);
    assert!(!later[0].contains(NOTICE_START), "{later:?}");
    assert_eq!(collector.records().len(), 1, "a later run sends");
}

/// Regression: racing first runs each kept their own `user_uuid` (the file
/// was created by rename, which overwrites), and sent ids no longer on disk.
#[test]
fn processes_started_together_send_the_one_id_on_disk() {
    // The race is narrow on a machine with few cores: several rounds.
    for round in 0..8 {
        let collector = Collector::start().unwrap();
        let root = TempDir::new("id-race");
        let config_dir = root.join("config");
        run_together(12, &config_dir, &collector, false);
        let on_disk = std::fs::read_to_string(config_dir.join(USER_UUID_FILE)).unwrap();
        let sent: Vec<String> = collector
            .records()
            .iter()
            .map(|record| {
                record["properties"]["user_uuid"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(sent.len(), 12);
        assert!(
            sent.iter().all(|id| id == on_disk.trim()),
            "round {round}: {sent:?} vs {on_disk}"
        );
    }
}

/// The same race between threads, each building its own client (with a
/// memory sink, so that nothing else staggers them): a tighter race than
/// between processes.
#[test]
fn clients_built_together_get_the_one_id_on_disk() {
    for round in 0..60 {
        let root = TempDir::new("id-race-threads");
        let config_dir = root.join("config");
        let start = std::sync::Arc::new(std::sync::Barrier::new(16));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (config_dir, start) = (config_dir.clone(), start.clone());
                std::thread::spawn(move || {
                    let sink = MemorySink::new();
                    let builder = Telemetry::builder(APP, "1.0.0")
                        .sink(sink.clone())
                        .config_dir(config_dir)
                        .notice(false)
                        .env(|_| None);
                    start.wait();
                    builder.build().track_command("x", Vec::<String>::new());
                    let record = serde_json::to_value(&sink.events()[0]).unwrap();
                    record["properties"]["user_uuid"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
            })
            .collect();
        let ids: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let on_disk = std::fs::read_to_string(config_dir.join(USER_UUID_FILE)).unwrap();
        assert!(
            ids.iter().all(|id| id == on_disk.trim()),
            "round {round}: {ids:?} vs {on_disk}"
        );
    }
}

/// A run on `config_dir` with the debug log captured; returns the client
/// and the log.
fn build_in(
    config_dir: &Path,
    collector: &Collector,
    env: &[(&str, &str)],
) -> (Telemetry, SharedBuf) {
    let debug = SharedBuf::new();
    let telemetry = Telemetry::builder(APP, "1.0.0")
        .endpoint(collector.url())
        .config_dir(config_dir)
        .debug(true)
        .debug_writer(debug.clone())
        .notice_writer(std::io::sink())
        .env_vars(env.to_vec())
        .build();
    (telemetry, debug)
}

/// Regression: a 0777 config dir was used as it was, and its files
/// trusted.
#[test]
fn a_config_dir_writable_by_others_turns_telemetry_off_for_the_run() {
    let collector = Collector::start().unwrap();
    let root = TempDir::new("open-dir");
    let dir = root.join("config");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (telemetry, debug) = build_in(&dir, &collector, &[]);
    telemetry.track_command("x", Vec::<String>::new());
    assert!(!telemetry.is_enabled());
    assert_eq!(
        debug.lines(),
        ["[telemetry] telemetry is off for this run: the config dir is writable by other users"]
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing written"
    );
    assert_eq!(
        std::fs::metadata(&dir).unwrap().mode() & 0o777,
        0o777,
        "left as it was"
    );
    assert_eq!(collector.requests().len(), 0);
}

/// Regression: a symlinked config dir was followed.
#[test]
fn a_linked_config_dir_turns_telemetry_off_for_the_run() {
    let collector = Collector::start().unwrap();
    let root = TempDir::new("dir-link");
    let real = root.join("real");
    std::fs::create_dir(&real).unwrap();
    let link = root.join("config");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let (telemetry, debug) = build_in(&link, &collector, &[]);
    assert!(!telemetry.is_enabled());
    assert_eq!(
        debug.lines(),
        ["[telemetry] telemetry is off for this run: the config dir is a symbolic link"]
    );
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);
}

/// Regression: a dir pre-created by another user was accepted: its marker
/// suppressed the notice and its id was sent as ours. (As root the dir is
/// given to another uid; otherwise `/`, root's, is another user's.)
#[test]
fn a_config_dir_of_another_user_turns_telemetry_off_for_the_run() {
    let collector = Collector::start().unwrap();
    let root = TempDir::new("not-ours");
    let theirs = if euid() == 0 {
        let dir = root.join("theirs");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join(NOTICE_MARKER_FILE), "").unwrap();
        std::fs::write(
            dir.join(USER_UUID_FILE),
            "6f3c1b52-2d1e-4d6a-9f0e-3b8f2a1c9d7e\n",
        )
        .unwrap();
        std::os::unix::fs::chown(&dir, Some(4242), Some(4242)).unwrap();
        dir
    } else {
        PathBuf::from("/")
    };
    let (telemetry, debug) = build_in(&theirs, &collector, &[]);
    telemetry.track_command("x", Vec::<String>::new());
    assert!(!telemetry.is_enabled());
    assert_eq!(
        debug.lines(),
        ["[telemetry] telemetry is off for this run: the config dir belongs to another user"]
    );
    assert_eq!(collector.requests().len(), 0);
}

/// Links planted at the id and at the marker are refused, and never
/// written through.
#[test]
fn linked_id_or_marker_turns_telemetry_off_for_the_run() {
    let collector = Collector::start().unwrap();
    for (name, reason) in [
        (
            USER_UUID_FILE,
            "the config dir's user-uuid file is a symbolic link",
        ),
        (
            NOTICE_MARKER_FILE,
            "the config dir's notice marker is a symbolic link",
        ),
    ] {
        let dir = TempDir::new("file-link");
        let victim = dir.join("victim");
        std::fs::write(&victim, "6f3c1b52-2d1e-4d6a-9f0e-3b8f2a1c9d7e\n").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join(name)).unwrap();
        let (telemetry, debug) = build_in(dir.path(), &collector, &[]);
        telemetry.track_command("x", Vec::<String>::new());
        assert!(!telemetry.is_enabled(), "{name}");
        assert_eq!(
            debug.lines(),
            [format!(
                "[telemetry] telemetry is off for this run: {reason}"
            )]
        );
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "6f3c1b52-2d1e-4d6a-9f0e-3b8f2a1c9d7e\n"
        );
    }
    assert_eq!(collector.requests().len(), 0);
}

/// `sudo -E`: root with the user's `HOME` writes nothing to the user's
/// config dir; it runs as with no config dir (notice, nothing sent).
#[test]
fn root_with_another_users_home_writes_nothing_there() {
    let collector = Collector::start().unwrap();
    let home = TempDir::new("sudo-home");
    let home_text = home.path().to_str().unwrap();
    let run = |env: &[(&str, &str)]| {
        let debug = SharedBuf::new();
        let telemetry = Telemetry::builder(APP, "1.0.0")
            .endpoint(collector.url())
            .debug(true)
            .debug_writer(debug.clone())
            .notice_writer(std::io::sink())
            .env_vars(env.to_vec())
            .build();
        telemetry.track_command("x", Vec::<String>::new());
        debug
    };
    if euid() == 0 {
        std::os::unix::fs::chown(home.path(), Some(4242), Some(4242)).unwrap();
        let debug = run(&[("HOME", home_text)]);
        assert!(
            debug
                .text()
                .contains("running as root on behalf of another user"),
            "{}",
            debug.text()
        );
        assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
        // Root's own HOME, but SUDO_UID set: the same.
        std::os::unix::fs::chown(home.path(), Some(0), Some(0)).unwrap();
        run(&[("HOME", home_text), ("SUDO_UID", "4242")]);
        assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
        assert_eq!(collector.requests().len(), 0);
    } else {
        // Not root: SUDO_UID means nothing, the config dir is used.
        run(&[("HOME", home_text), ("SUDO_UID", "4242")]);
        assert!(home
            .join(".config")
            .join(APP)
            .join(USER_UUID_FILE)
            .is_file());
    }
}

/// Regression: a FIFO swapped in at the id path hung the process at
/// startup. Now the client is built, with an id for this process only. (The
/// channel's timeout guards against a hang; it is not a timing check.)
#[test]
fn a_fifo_at_the_id_path_never_hangs_the_build() {
    let dir = TempDir::new("fifo");
    let fifo = dir.join(USER_UUID_FILE);
    let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    let config_dir = dir.path().to_path_buf();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let sink = MemorySink::new();
        let telemetry = Telemetry::builder(APP, "1.0.0")
            .sink(sink.clone())
            .config_dir(config_dir)
            .notice(false)
            .env(|_| None)
            .build();
        telemetry.track_command("x", Vec::<String>::new());
        let id = serde_json::to_value(&sink.events()[0]).unwrap()["properties"]["user_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let _ = send.send(id);
    });
    let id = receive
        .recv_timeout(Duration::from_secs(60))
        .expect("the build returned instead of hanging on the FIFO");
    assert!(common::is_uuid_v4(&id), "{id}");
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
}

/// Regression: `debug_file` followed a planted symlink and appended to the
/// file it pointed at, and created the log 0644.
#[test]
fn debug_file_never_writes_through_a_link_and_creates_the_log_private() {
    let dir = TempDir::new("debug-file");
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let link = dir.join("debug.log");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let build = |path: &Path| {
        Telemetry::builder(APP, "1.0.0")
            .sink(MemorySink::new())
            .notice(false)
            .debug(true)
            .debug_file(path)
            .env(|_| None)
            .build()
            .track_command("x", Vec::<String>::new())
    };
    build(&link);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");

    let fresh = dir.join("fresh.log");
    build(&fresh);
    assert_eq!(std::fs::metadata(&fresh).unwrap().mode() & 0o777, 0o600);
    assert!(std::fs::read_to_string(&fresh)
        .unwrap()
        .contains("\"action\":\"x\""));
}

fn euid() -> u32 {
    // SAFETY: `geteuid` has no preconditions.
    unsafe { libc::geteuid() }
}
