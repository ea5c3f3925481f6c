//! A versioned notice: the marker keeps the version a user saw; when the
//! app raises `notice_version`, the notice is shown once more, with the
//! app's line on what changed, and that run holds its records as a first
//! run does; the next run sends, and shows nothing.

use crate::common::scene;
use std::path::Path;
use std::time::Duration;
use telemetry_core::{HoldReason, Telemetry};
use telemetry_test_support::collector::Collector;
use telemetry_test_support::marker::date_back_marker;
use telemetry_test_support::MemoryWriter;

const APP: &str = "notice-version-test";

fn run(collector: &Collector, dir: &Path, version: u32, notice: &MemoryWriter) -> Telemetry {
    Telemetry::builder(APP, "1.0.0")
        .endpoint(collector.url())
        .config_dir(dir)
        .notice_version(version)
        .notice_changes("tool names are now collected")
        .notice_writer(notice.clone())
        .timeout(Duration::from_secs(5))
        .env_vars([("LANG", "C")])
        .build()
}

fn json(telemetry: &Telemetry) -> serde_json::Value {
    serde_json::from_str(&telemetry.status().to_json()).unwrap()
}

#[test]
fn raising_the_notice_version_shows_the_notice_once_more_and_holds_that_run() {
    let (collector, root, _) = scene("notice-version");
    let dir = root.join("config");

    // Version 1: the first run shows the notice (without a "changed" line)
    // and holds.
    let before = Telemetry::builder(APP, "1.0.0")
        .endpoint(collector.url())
        .config_dir(&dir)
        .env_vars([("LANG", "C")])
        .controls()
        .status();
    assert_eq!(before.notice_version_seen, None);
    let notice = MemoryWriter::new();
    let first = run(&collector, &dir, 1, &notice);
    assert_eq!(json(&first)["notice_version_seen"], 1);
    first.track_command("run", Vec::<String>::new());
    assert!(notice.text().contains("collects anonymous usage data"));
    assert!(!notice.text().contains("What changed"));
    assert_eq!(collector.records().len(), 0);
    date_back_marker(&dir);

    // A later run at version 1 sends, silently.
    let notice = MemoryWriter::new();
    let second = run(&collector, &dir, 1, &notice);
    assert_eq!(json(&second)["notice_version_seen"], 1);
    second.track_command("run", Vec::<String>::new());
    assert_eq!(notice.text(), "");
    assert_eq!(collector.records().len(), 1);

    // The app raises the version: the notice again, with the change, and
    // this run is held.
    let notice = MemoryWriter::new();
    let debug = MemoryWriter::new();
    let status = Telemetry::builder(APP, "1.0.0")
        .endpoint(collector.url())
        .config_dir(&dir)
        .notice_version(2)
        .env_vars([("LANG", "C")])
        .controls()
        .status();
    assert!(status.enabled, "{status}");
    assert_eq!(status.notice_version_seen, Some(1));
    let raised = Telemetry::builder(APP, "1.0.0")
        .endpoint(collector.url())
        .config_dir(&dir)
        .notice_version(2)
        .notice_changes("tool names are now collected")
        .notice_writer(notice.clone())
        .debug_writer(debug.clone())
        .env_vars([("LANG", "C")])
        .build();
    raised.track_command("run", Vec::<String>::new());
    let text = notice.text();
    assert!(text.contains("collects anonymous usage data"), "{text}");
    assert!(
        text.contains("What changed since you last saw this notice: tool names are now collected"),
        "{text}"
    );
    assert_eq!(collector.records().len(), 1, "held, as a first run");
    assert!(
        debug
            .text()
            .contains(&HoldReason::NoticeChanged.to_string()),
        "{}",
        debug.text()
    );
    assert_eq!(json(&raised)["notice_version_seen"], 2);

    // The next run at version 2 sends and shows nothing; so does one of an
    // older build (version 1).
    date_back_marker(&dir);
    for version in [2, 1] {
        let notice = MemoryWriter::new();
        let later = run(&collector, &dir, version, &notice);
        later.track_command("run", Vec::<String>::new());
        assert_eq!(notice.text(), "", "version {version}");
    }
    assert_eq!(collector.records().len(), 3);
}
