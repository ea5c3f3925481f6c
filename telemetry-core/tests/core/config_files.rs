//! The config dir and its files: the toolkit creates them private (dirs
//! 0700, files 0600, no temporary file left behind); it refuses a config
//! dir, id file or notice marker that is a symlink, another user's or
//! writable by other users (telemetry off for the run, nothing written,
//! nothing sent, the thing left as it is), so it never writes through,
//! reads from or creates the target of a planted link; a FIFO at the id
//! path never hangs it; root acting for another user (`sudo -E`) writes
//! nothing in that user's config dir; and with no config dir at all, the
//! debug log says so.

use crate::common::scene;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;
use telemetry_core::{
    ConfigDirRefused, ConfigItem, MemorySink, OffReason, Refusal, Rule, Telemetry,
    NOTICE_MARKER_FILE, USER_UUID_FILE,
};
use telemetry_test_support::collector::Collector;
use telemetry_test_support::marker::date_back_marker;
use telemetry_test_support::{is_uuid_v4, MemoryWriter, TempDir};

const APP: &str = "config-files-test";
const HISTORY_FILE: &str = "telemetry-history.jsonl";

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

pub(crate) fn euid() -> u32 {
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// One run on `config_dir`, with the notice on (written nowhere), the
/// environment `env` only, and the debug log captured.
fn run_in(
    config_dir: Option<&Path>,
    collector: &Collector,
    env: &[(&str, &str)],
) -> (Telemetry, MemoryWriter) {
    let debug = MemoryWriter::new();
    let mut builder = Telemetry::builder(APP, "1.0.0")
        .endpoint(collector.url())
        .debug_writer(debug.clone())
        .notice_writer(std::io::sink())
        .env_vars(env.to_vec());
    if let Some(dir) = config_dir {
        builder = builder.config_dir(dir);
    }
    (builder.build(), debug)
}

/// Asserts that `telemetry` is off because of `item`, for `why`, and that
/// its one debug line says so.
fn assert_refused(telemetry: &Telemetry, debug: &MemoryWriter, item: ConfigItem, why: Refusal) {
    let reason = telemetry.off_reason();
    assert!(
        matches!(
            reason,
            Some(OffReason::ConfigDirRefused(ConfigDirRefused { item: i, why: w, .. }))
                if *i == item && *w == why
        ),
        "{reason:?}"
    );
    assert_eq!(
        debug.lines(),
        [format!("[telemetry] {}", reason.unwrap())],
        "one line, saying why"
    );
}

#[test]
fn created_files_are_private() {
    let (collector, root, _) = scene("modes");
    // Two levels that do not exist yet: both are created private.
    let parent = root.join("parent");
    let config = parent.join("app");
    run_in(Some(&config), &collector, &[])
        .0
        .track_command("first-run", Vec::<String>::new());
    date_back_marker(&config);
    run_in(Some(&config), &collector, &[])
        .0
        .track_command("second-run", Vec::<String>::new());

    assert_eq!(mode(&config.join(USER_UUID_FILE)), 0o600);
    assert_eq!(mode(&config.join(NOTICE_MARKER_FILE)), 0o600);
    assert_eq!(mode(&config.join(HISTORY_FILE)), 0o600);
    for dir in [&parent, &config] {
        assert_eq!(mode(dir), 0o700, "{dir:?}");
    }
    // Nothing else (the history of what was sent): no temporary file left
    // behind.
    let mut names: Vec<String> = std::fs::read_dir(&config)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [HISTORY_FILE, NOTICE_MARKER_FILE, USER_UUID_FILE]);
    // The run that showed the notice sent nothing; the next one did.
    let records = collector.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["properties"]["action"], "second-run");
}

/// Someone who can write to the config dir plants a link at the id file's
/// name: to a file of the user's elsewhere that even holds a valid id, to
/// nowhere, or to a FIFO. The link is refused (telemetry off for the run):
/// its target is neither read, written, created nor opened, and the link
/// is left as it is.
#[test]
fn a_symlinked_id_file_is_refused_never_used_nor_written_through() {
    let (collector, elsewhere, _) = scene("links-target");
    let victim = elsewhere.join("victim");
    let victim_text = "6f1d2b9e-0000-4000-8000-000000000001\n";
    std::fs::write(&victim, victim_text).unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let ghost = elsewhere.join("ghost");
    let fifo = elsewhere.join("fifo");
    make_fifo(&fifo);

    for target in [&victim, &ghost, &fifo] {
        let config = TempDir::new("links");
        std::os::unix::fs::symlink(target, config.join(USER_UUID_FILE)).unwrap();
        // Twice: the first run would show the notice, the second send.
        for _ in 0..2 {
            let dir = config.path().to_path_buf();
            let url = collector.url();
            let (telemetry, debug) = without_hanging(move || {
                let collector_url = url;
                let debug = MemoryWriter::new();
                let telemetry = Telemetry::builder(APP, "1.0.0")
                    .endpoint(collector_url)
                    .config_dir(dir)
                    .debug_writer(debug.clone())
                    .notice_writer(std::io::sink())
                    .env(|_| None)
                    .build();
                (telemetry, debug)
            });
            telemetry.track_command("x", Vec::<String>::new());
            assert_refused(&telemetry, &debug, ConfigItem::UserUuid, Refusal::Symlink);
        }
        let link = std::fs::symlink_metadata(config.join(USER_UUID_FILE)).unwrap();
        assert!(link.file_type().is_symlink(), "{target:?}: left as it is");
        // No notice was shown, so no marker says it was.
        assert!(!config.join(NOTICE_MARKER_FILE).exists());
    }
    assert_eq!(collector.requests().len(), 0);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), victim_text);
    assert_eq!(mode(&victim), 0o644);
    assert!(!ghost.exists());
}

/// A link planted at the notice marker's name, pointing where no file is:
/// refused, and the marker is never created through it.
#[test]
fn a_symlinked_notice_marker_is_refused_never_written_through() {
    let (collector, config, _) = scene("marker-link");
    let elsewhere = TempDir::new("marker-link-target");
    let would_be_created = elsewhere.join("created-through-link");
    std::os::unix::fs::symlink(&would_be_created, config.join(NOTICE_MARKER_FILE)).unwrap();
    for _ in 0..2 {
        let (telemetry, debug) = run_in(Some(config.path()), &collector, &[]);
        telemetry.track_command("x", Vec::<String>::new());
        assert_refused(
            &telemetry,
            &debug,
            ConfigItem::NoticeMarker,
            Refusal::Symlink,
        );
    }
    assert!(!would_be_created.exists());
    assert_eq!(collector.requests().len(), 0);
}

/// Regression: an existing 0777 config dir was used as it was, and its
/// files trusted.
#[test]
fn a_config_dir_writable_by_others_turns_telemetry_off_for_the_run() {
    let collector = Collector::start().unwrap();
    for bits in [0o777, 0o770, 0o702] {
        let root = TempDir::new("open-dir");
        let dir = root.join("config");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(bits)).unwrap();
        let (telemetry, debug) = run_in(Some(&dir), &collector, &[]);
        telemetry.track_command("x", Vec::<String>::new());
        assert_refused(
            &telemetry,
            &debug,
            ConfigItem::Dir,
            Refusal::WritableByOthers,
        );
        assert_eq!(
            debug.lines(),
            ["[telemetry] telemetry is off: the config dir is writable by other users"]
        );
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "nothing written"
        );
        assert_eq!(mode(&dir), bits, "left as it was");
    }
    assert_eq!(collector.requests().len(), 0);
}

/// Regression: a symlinked config dir was followed.
#[test]
fn a_symlinked_config_dir_turns_telemetry_off_for_the_run() {
    let (collector, root, _) = scene("dir-link");
    let real = root.join("real");
    std::fs::create_dir(&real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
    let link = root.join("config");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let (telemetry, debug) = run_in(Some(&link), &collector, &[]);
    telemetry.track_command("x", Vec::<String>::new());
    assert_refused(&telemetry, &debug, ConfigItem::Dir, Refusal::Symlink);
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);
    assert_eq!(collector.requests().len(), 0);
}

/// Regression: a dir pre-created by another user was accepted: its marker
/// suppressed the notice and its id was sent as ours. (As root the dir is
/// given to another uid; otherwise `/`, root's, is another user's.)
#[test]
fn a_config_dir_of_another_user_turns_telemetry_off_for_the_run() {
    let (collector, root, _) = scene("not-ours");
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
    let (telemetry, debug) = run_in(Some(&theirs), &collector, &[]);
    telemetry.track_command("x", Vec::<String>::new());
    assert_refused(&telemetry, &debug, ConfigItem::Dir, Refusal::NotOurs);
    assert_eq!(collector.requests().len(), 0);
}

/// `sudo -E`: root with the user's `HOME` (or with `SUDO_UID` set) writes
/// nothing to the user's config dir, so the notice could not be
/// remembered: the run is off, and its status says why. Not as root,
/// `SUDO_UID` means nothing.
#[test]
fn root_acting_for_another_user_writes_nothing_in_their_config_dir() {
    let (collector, home, _) = scene("sudo-home");
    let home_text = home.path().to_str().unwrap();
    let run = |env: &[(&str, &str)]| {
        let (telemetry, debug) = run_in(None, &collector, env);
        telemetry.track_command("x", Vec::<String>::new());
        if euid() == 0 {
            assert!(!telemetry.is_enabled());
            assert_eq!(telemetry.status().decided_by, Rule::RootForAnotherUser);
        }
        debug.text()
    };
    if euid() == 0 {
        std::os::unix::fs::chown(home.path(), Some(4242), Some(4242)).unwrap();
        let debug = run(&[("HOME", home_text)]);
        assert!(
            debug.contains("telemetry is off: running as root on behalf of another user"),
            "{debug}"
        );
        assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
        // Root's own HOME, but SUDO_UID set: the same.
        std::os::unix::fs::chown(home.path(), Some(0), Some(0)).unwrap();
        let debug = run(&[("HOME", home_text), ("SUDO_UID", "4242")]);
        assert!(debug.contains("running as root on behalf"), "{debug}");
        assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
        assert_eq!(collector.requests().len(), 0);
    } else {
        run(&[("HOME", home_text), ("SUDO_UID", "4242")]);
        assert!(home
            .join(".config")
            .join(APP)
            .join(USER_UUID_FILE)
            .is_file());
    }
}

/// Regression: a FIFO swapped in at the id path hung the process at
/// startup. Now the client is built, with an id for this process only,
/// and the FIFO is left as it is.
#[test]
fn a_fifo_at_the_id_path_never_hangs_the_build() {
    let dir = TempDir::new("fifo");
    let fifo = dir.join(USER_UUID_FILE);
    make_fifo(&fifo);
    let config_dir = dir.path().to_path_buf();
    let records = without_hanging(move || {
        let sink = MemorySink::new();
        let telemetry = Telemetry::builder(APP, "1.0.0")
            .sink(sink.clone())
            .config_dir(config_dir)
            .notice(false)
            .env(|_| None)
            .build();
        telemetry.track_command("x", Vec::<String>::new());
        sink.records()
    });
    let record = serde_json::to_value(&records[0]).unwrap();
    let id = record["properties"]["user_uuid"].as_str().unwrap();
    assert!(is_uuid_v4(id), "{id}");
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(
        &std::fs::symlink_metadata(&fifo).unwrap().file_type()
    ));
}

/// Regression: with no `HOME` (and no `XDG_CONFIG_HOME`), the debug log
/// said "the config dir is not writable", and every run showed the notice
/// and sent nothing, forever. The run is off (no notice that cannot be
/// remembered), and says "no usable config dir", once.
#[test]
fn with_no_home_the_run_is_off_and_says_no_config_dir_once() {
    let collector = Collector::start().unwrap();
    let (telemetry, debug) = run_in(None, &collector, &[]);
    telemetry.track_command("x", Vec::<String>::new());
    assert!(!telemetry.is_enabled());
    assert_eq!(telemetry.status().decided_by, Rule::NoConfigDir);
    let lines = debug.lines();
    assert_eq!(
        lines,
        ["[telemetry] telemetry is off: no usable config dir to remember the first-run notice in, so it is not shown and nothing is sent"],
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|line| line.contains("not writable")),
        "{lines:#?}"
    );
    assert_eq!(collector.connections(), 0);
}

pub(crate) fn make_fifo(path: &Path) {
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
}

/// Runs `f` on a thread and waits at most a minute: a guard so that a hang
/// fails the test instead of blocking the run, not a timing check.
fn without_hanging<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(f());
    });
    receive
        .recv_timeout(Duration::from_secs(60))
        .expect("returned instead of hanging")
}
