//! First run and identity: the notice is shown once per config dir and only
//! while telemetry is on, the run that shows it sends nothing (checked at a
//! loopback collector), the next run sends; runs started together with it
//! send nothing either, and agree on one id; `TELEMETRY_HIDE_BANNER`; the
//! `user-uuid` file (mode 0600, reused, regenerated when corrupt); and no
//! file at all when telemetry is off.
//!
//! A run sends only if the notice marker existed before its process
//! started: tests whose later runs are clients built in this process date
//! the marker back first (`marker::date_back_marker`).

use crate::common::scene;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::Duration;
use telemetry_core::{MemorySink, Outcome, Telemetry, NOTICE_MARKER_FILE, USER_UUID_FILE};
use telemetry_test_support::collector::Collector;
use telemetry_test_support::fs::entries;
use telemetry_test_support::marker::{date_back_marker, wait_until_older_than_any_later_start};
use telemetry_test_support::process::{run_together, wait_for_the_others};
use telemetry_test_support::{is_uuid_v4, MemoryWriter, TempDir};

const APP: &str = "first-run-test";

/// One run of the program: a new builder with this config dir.
fn run(
    collector: &Collector,
    config_dir: &Path,
    notice: &MemoryWriter,
    vars: &[(&str, &str)],
) -> Telemetry {
    Telemetry::builder(APP, "1.0.0")
        .endpoint(collector.url())
        .config_dir(config_dir)
        .notice_writer(notice.clone())
        .timeout(Duration::from_secs(5))
        .env_vars(vars.to_vec())
        .build()
}

fn record_everything(telemetry: &Telemetry) {
    telemetry.track_command("run", ["--flag"]);
    telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    telemetry.record_token_usage("m", 1, 1, 0.1);
    telemetry.start_session("agent").end();
}

fn looks_like_the_notice(text: &str) -> bool {
    text.contains(APP)
        && text.contains("TELEMETRY_ENABLED=false")
        && text.contains("DO_NOT_TRACK=1")
        && text.contains("TELEMETRY_HIDE_BANNER=1")
}

fn sent_user_uuids(collector: &Collector) -> Vec<String> {
    collector
        .records()
        .iter()
        .map(|r| r["properties"]["user_uuid"].as_str().unwrap().to_owned())
        .collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_notice_is_shown_once_and_its_run_sends_nothing_then_the_next_run_sends() {
    let (collector, root, _) = scene("first-run");
    let config_dir = root.join("config");

    let first_notice = MemoryWriter::new();
    let first = run(&collector, &config_dir, &first_notice, &[]);
    assert!(first.is_enabled(), "on, but holding this run's events");
    record_everything(&first);
    assert!(
        looks_like_the_notice(&first_notice.text()),
        "{}",
        first_notice.text()
    );
    assert_eq!(
        collector.requests().len(),
        0,
        "nothing sent by the first run"
    );
    assert_eq!(collector.connections(), 0, "not even a connection");
    assert!(config_dir.join(NOTICE_MARKER_FILE).exists());

    // A later run is a later process: the marker predates it.
    date_back_marker(&config_dir);
    for _ in 0..2 {
        let notice = MemoryWriter::new();
        let next = run(&collector, &config_dir, &notice, &[]);
        assert!(notice.is_empty(), "shown again: {}", notice.text());
        let before = collector.requests().len();
        record_everything(&next);
        assert_eq!(collector.requests().len(), before + 5);
    }
}

#[test]
fn the_notice_is_shown_once_per_config_dir() {
    let (collector, root, _) = scene("notice-per-dir");
    let (a, b) = (root.join("a"), root.join("b"));
    let (notice_a, notice_b) = (MemoryWriter::new(), MemoryWriter::new());
    run(&collector, &a, &notice_a, &[]);
    run(&collector, &b, &notice_b, &[]);
    assert!(looks_like_the_notice(&notice_a.text()));
    assert!(looks_like_the_notice(&notice_b.text()));
    date_back_marker(&a);
    let again = MemoryWriter::new();
    run(&collector, &a, &again, &[]);
    assert!(again.is_empty());
}

#[test]
fn hide_banner_hides_the_notice_without_turning_telemetry_off() {
    let (collector, root, _) = scene("hide-banner");
    let config_dir = root.join("config");
    let notice = MemoryWriter::new();
    let telemetry = run(
        &collector,
        &config_dir,
        &notice,
        &[("TELEMETRY_HIDE_BANNER", "1")],
    );
    assert!(telemetry.is_enabled());
    record_everything(&telemetry);
    assert!(notice.is_empty(), "{}", notice.text());
    // Nothing for the user to read first, so this run sends.
    assert_eq!(collector.requests().len(), 5);
    // The notice was not shown, so no marker says it was.
    assert!(!config_dir.join(NOTICE_MARKER_FILE).exists());
}

#[test]
fn the_user_uuid_file_is_private_and_reused_across_runs() {
    let (collector, root, _) = scene("uuid-reuse");
    let config_dir = root.join("config");
    for _ in 0..2 {
        let notice = MemoryWriter::new();
        run(
            &collector,
            &config_dir,
            &notice,
            &[("TELEMETRY_HIDE_BANNER", "1")],
        )
        .track_command("run", Vec::<String>::new());
    }
    let sent = sent_user_uuids(&collector);
    assert_eq!(sent.len(), 2);
    assert!(is_uuid_v4(&sent[0]), "{sent:?}");
    assert_eq!(sent[0], sent[1], "the second run reuses the id");
    let path = config_dir.join(USER_UUID_FILE);
    assert_eq!(std::fs::read_to_string(&path).unwrap().trim(), sent[0]);
    #[cfg(unix)]
    {
        assert_eq!(mode(&path), 0o600, "user-uuid is private");
        assert_eq!(
            mode(&config_dir),
            0o700,
            "the config dir it made is private"
        );
    }
}

#[test]
fn a_corrupt_or_empty_user_uuid_file_is_regenerated() {
    let (collector, root, _) = scene("uuid-corrupt");
    let config_dir = root.path();
    let path = config_dir.join(USER_UUID_FILE);
    let corrupt: [&[u8]; 5] = [
        b"",
        b"\n",
        b"garbage",
        b"zzzzzzzz-zzzz-4zzz-8zzz-zzzzzzzzzzzz",
        &[0xff, 0xfe, 0x00, 0x01],
    ];
    for (index, contents) in corrupt.iter().enumerate() {
        std::fs::write(&path, contents).unwrap();
        run(
            &collector,
            config_dir,
            &MemoryWriter::new(),
            &[("TELEMETRY_HIDE_BANNER", "1")],
        )
        .track_command("run", Vec::<String>::new());
        let sent = sent_user_uuids(&collector);
        let id = &sent[index];
        assert!(is_uuid_v4(id), "{contents:?} gave {id:?}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().trim(),
            id,
            "the regenerated id is stored"
        );
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
    }
    assert_eq!(collector.records().len(), corrupt.len());
}

#[test]
fn an_unwritable_config_dir_is_off_while_the_notice_is_on_and_keeps_the_id_in_memory_without_it() {
    let (collector, root, _) = scene("unwritable");
    // A regular file where the config dir should be: nothing can be
    // created inside it.
    let not_a_dir = root.join("file");
    std::fs::write(&not_a_dir, "x").unwrap();

    // The marker could not record that the notice was shown: no run shows
    // a notice it cannot remember; each is off, and sends nothing.
    for _ in 0..2 {
        let notice = MemoryWriter::new();
        let telemetry = run(&collector, &not_a_dir, &notice, &[]);
        record_everything(&telemetry);
        assert!(!telemetry.is_enabled());
        assert_eq!(notice.text(), "");
    }
    assert_eq!(collector.connections(), 0);

    // Without the notice, it sends, with an id that lasts for the process.
    for _ in 0..2 {
        run(
            &collector,
            &not_a_dir,
            &MemoryWriter::new(),
            &[("TELEMETRY_HIDE_BANNER", "1")],
        )
        .track_command("run", Vec::<String>::new());
    }
    let sent = sent_user_uuids(&collector);
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|id| is_uuid_v4(id)));
    assert_eq!(std::fs::read_to_string(&not_a_dir).unwrap(), "x");
}

#[test]
fn when_off_no_notice_and_no_file_in_the_config_dir() {
    let (collector, root, _) = scene("off-no-files");
    let cases: [&[(&str, &str)]; 4] = [
        &[("DO_NOT_TRACK", "1")],
        &[("TELEMETRY_ENABLED", "false")],
        &[("TELEMETRY_ENABLED", "fasle")],
        &[("TELEMETRY_ENDPOINT", "ftp://x")],
    ];
    for (index, vars) in cases.iter().enumerate() {
        // A config dir that does not exist yet, and one that does.
        let missing = root.join(format!("missing-{index}"));
        let existing = root.join(format!("existing-{index}"));
        std::fs::create_dir(&existing).unwrap();
        for config_dir in [&missing, &existing] {
            let notice = MemoryWriter::new();
            let telemetry = run(&collector, config_dir, &notice, vars);
            assert!(!telemetry.is_enabled(), "{vars:?}");
            record_everything(&telemetry);
            assert!(!looks_like_the_notice(&notice.text()), "{vars:?}");
        }
        assert!(!missing.exists(), "{vars:?}: the config dir was created");
        assert_eq!(entries(&existing), Vec::<String>::new(), "{vars:?}");
    }
    // No endpoint at all.
    let missing = root.join("missing-no-endpoint");
    let notice = MemoryWriter::new();
    let telemetry = Telemetry::builder(APP, "1.0.0")
        .config_dir(&missing)
        .notice_writer(notice.clone())
        .env(|_| None)
        .build();
    record_everything(&telemetry);
    assert!(!telemetry.is_enabled());
    assert!(notice.is_empty());
    assert!(!missing.exists());
    assert_eq!(collector.connections(), 0);
}

#[test]
fn the_run_that_shows_the_notice_opens_no_socket() {
    let (collector, config, notice) = scene("first-run");
    let telemetry = Telemetry::builder("first-run-test", "1.0.0")
        .endpoint(collector.url())
        .config_dir(config.path())
        .notice_writer(notice.clone())
        .env(|_| None)
        .build();
    for _ in 0..20 {
        telemetry.track_command("c", Vec::<String>::new());
        telemetry.record_token_usage("m", 1, 1, 0.1);
    }
    assert!(notice.text().contains("To opt out"));
    assert_eq!(collector.connections(), 0);
}

// ---------------------------------------------------------------------------
// Runs started together

/// The racing runs' test, run by [`run_together`] in each process.
const TOGETHER: &str = "first_run::one_of_the_runs_started_together";
/// For a run started together: its config dir.
const TOGETHER_CONFIG_DIR: &str = "FIRST_RUN_TEST_CONFIG_DIR";
/// For a run started together: the collector's URL.
const TOGETHER_ENDPOINT: &str = "FIRST_RUN_TEST_ENDPOINT";
/// For a run started together: `0` to show no notice.
const TOGETHER_NOTICE: &str = "FIRST_RUN_TEST_NOTICE";

/// One run of a program, in a process of its own started together with
/// others: builds a client (the notice goes to stderr) and records one
/// command. Does nothing unless started by [`run_together`].
#[test]
#[ignore = "one of the processes that run_together starts"]
// A child run reads what its parent test set for it (not a client's
// environment, which goes through the builder).
#[allow(clippy::disallowed_methods)]
fn one_of_the_runs_started_together() {
    if !wait_for_the_others(TOGETHER) {
        return;
    }
    let var = |name| std::env::var_os(name).expect("set by the test that started this run");
    let notice = var(TOGETHER_NOTICE) != "0";
    Telemetry::builder(APP, "1.0.0")
        .endpoint(var(TOGETHER_ENDPOINT).to_string_lossy())
        .config_dir(PathBuf::from(var(TOGETHER_CONFIG_DIR)))
        .notice(notice)
        .notice_writer(std::io::stderr())
        .timeout(Duration::from_secs(10))
        .env(|_| None)
        .build()
        .track_command("together", Vec::<String>::new());
}

/// Starts `count` runs on `config_dir` at once; returns each one's stderr.
fn runs_together(
    count: usize,
    config_dir: &Path,
    collector: &Collector,
    notice: bool,
) -> Vec<String> {
    let url = collector.url();
    run_together(
        TOGETHER,
        count,
        &[
            (TOGETHER_CONFIG_DIR, config_dir.as_os_str()),
            (TOGETHER_ENDPOINT, url.as_ref()),
            (TOGETHER_NOTICE, (if notice { "1" } else { "0" }).as_ref()),
        ],
    )
}

/// Regression: of 10 first runs started at once, one showed the notice and
/// the other 9 sent data in that same moment.
#[test]
fn first_runs_started_together_show_one_notice_and_send_nothing() {
    let (collector, root, _) = scene("together");
    let config_dir = root.join("config");

    let stderrs = runs_together(10, &config_dir, &collector, true);
    let notices = stderrs
        .iter()
        .filter(|stderr| looks_like_the_notice(stderr))
        .count();
    assert_eq!(notices, 1, "{stderrs:#?}");
    assert_eq!(
        collector.requests().len(),
        0,
        "nothing sent by the first runs"
    );

    // A run started later sends, without the notice.
    wait_until_older_than_any_later_start(&config_dir.join(NOTICE_MARKER_FILE));
    let later = runs_together(1, &config_dir, &collector, true);
    assert!(!looks_like_the_notice(&later[0]), "{later:?}");
    assert_eq!(collector.records().len(), 1, "a later run sends");
}

/// Regression: racing first runs each kept their own `user_uuid` (the file
/// was created by rename, which overwrites), and sent ids no longer on disk.
#[test]
fn processes_started_together_send_the_one_id_on_disk() {
    // The race is narrow on a machine with few cores: several rounds.
    for round in 0..8 {
        let (collector, root, _) = scene("id-race");
        let config_dir = root.join("config");
        runs_together(12, &config_dir, &collector, false);
        let on_disk = std::fs::read_to_string(config_dir.join(USER_UUID_FILE)).unwrap();
        let sent = sent_user_uuids(&collector);
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
        let start = Arc::new(Barrier::new(16));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (config_dir, start) = (config_dir.clone(), Arc::clone(&start));
                std::thread::spawn(move || {
                    let sink = MemorySink::new();
                    let builder = Telemetry::builder(APP, "1.0.0")
                        .sink(sink.clone())
                        .config_dir(config_dir)
                        .notice(false)
                        .env(|_| None);
                    start.wait();
                    builder.build().track_command("x", Vec::<String>::new());
                    let record = serde_json::to_value(&sink.records()[0]).unwrap();
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
