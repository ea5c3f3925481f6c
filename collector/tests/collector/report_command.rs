//! `telemetry-collector report` as a process: `--json` equals the API's
//! answers for the same range, text on a pipe holds no escape sequence,
//! the database is opened read-only and left unchanged, a missing database
//! exits 1 with its path, several apps and no `--app` exit 2 listing them.

use crate::harness::{command, Collector};
use crate::seed;
use std::path::Path;
use std::process::Output;
use telemetry_collector::overview::calendar::Day;
use telemetry_collector::overview::VIEWS;
use telemetry_test_support::TempDir;

fn report(db: &Path, args: &[&str]) -> Output {
    command("report", db, args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn report_json_equals_the_api_answers_for_the_same_range() {
    let collector = Collector::start(&[]);
    let db = &collector.db;
    let today = Day::today();
    seed::send(&collector, today);
    // While serve runs (WAL: a reader beside the writer), default range and
    // an explicit one.
    let from = today.plus(-6);
    for (args, query) in [
        (vec!["--json"], format!("app={}", seed::APP)),
        (
            vec![
                "--json",
                "--app",
                seed::APP,
                "--from",
                &from.to_string(),
                "--to",
                &today.to_string(),
            ],
            format!("app={}&from={from}&to={today}", seed::APP),
        ),
    ] {
        let output = report(db, &args);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let json: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("report --json prints JSON");
        let object = json.as_object().expect("one object");
        assert_eq!(
            object.len(),
            VIEWS.len(),
            "every view but records: {:?}",
            object.keys()
        );
        assert!(!object.contains_key("records"));
        for view in VIEWS {
            let api = collector.get_json(&format!("/api/v1/{view}?{query}"));
            assert_eq!(object[view], api, "{view} ({query})");
        }
    }
}

#[test]
fn report_text_on_a_pipe_has_no_escape_sequence_and_the_seeded_numbers() {
    let collector = Collector::start(&[]);
    seed::send(&collector, Day::today());
    let commands = collector.get_json(&format!("/api/v1/commands?app={}", seed::APP));
    let (_dir, db) = collector.kill();
    let output = report(&db, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(!stdout.contains('\x1b'), "{stdout}");
    assert!(stdout.starts_with(&format!("{}: ", seed::APP)), "{stdout}");
    // Each command's line: its name, then its calls and failures as the API gives them.
    for command in commands["commands"].as_array().unwrap() {
        let name = command["name"].as_str().unwrap();
        let line = stdout
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("{name} ")))
            .expect(name);
        let numbers: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(numbers[1], command["calls"].to_string(), "{line}");
        assert_eq!(numbers[2], command["failures"].to_string(), "{line}");
    }
    assert!(
        stdout
            .lines()
            .any(|line| line.trim_start().starts_with("records") && line.contains('█')),
        "{stdout}"
    );
}

#[test]
fn report_leaves_the_database_as_it_was() {
    let collector = Collector::start(&[]);
    seed::send(&collector, Day::today());
    let (dir, db) = collector.kill(); // its write-ahead log stays beside the file
    let files = || -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| !path.to_string_lossy().ends_with("-shm"))
            .map(|path| (path.display().to_string(), std::fs::read(&path).unwrap()))
            .collect();
        files.sort();
        files
    };
    let before = files();
    assert!(report(&db, &[]).status.success());
    assert!(report(&db, &["--json"]).status.success());
    assert!(before == files(), "report changed the database's files");
}

#[test]
fn a_missing_database_exits_1_with_its_path() {
    let dir = TempDir::new("report-missing");
    let db = dir.join("nowhere.db");
    let output = report(&db, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains(&db.display().to_string()),
        "{}",
        text(&output.stderr)
    );
    assert!(output.stdout.is_empty());
    assert!(!db.exists(), "report creates no database");
}

#[test]
fn several_apps_and_no_app_exit_2_listing_them() {
    let collector = Collector::start(&[]);
    seed::send(&collector, Day::today());
    seed::send_other_app(&collector, Day::today());
    let (_dir, db) = collector.kill();
    let output = report(&db, &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(seed::APP) && stderr.contains(seed::OTHER_APP),
        "{stderr}"
    );
    let chosen = report(&db, &["--app", seed::OTHER_APP]);
    assert!(chosen.status.success(), "{}", text(&chosen.stderr));
    assert!(text(&chosen.stdout).contains("sync"));
}

#[test]
fn a_bad_day_is_a_clear_error() {
    let (_dir, db) = Collector::start(&[]).kill();
    let output = report(&db, &["--from", "yesterday"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("yesterday"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn a_range_without_records_says_where_the_last_ones_are() {
    let collector = Collector::start(&[]);
    let long_ago = Day::today().plus(-60);
    seed::send_other_app(&collector, long_ago);
    let (_dir, db) = collector.kill();
    let output = report(&db, &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(&format!("No records of {} in this range.", seed::OTHER_APP)),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("try --to {long_ago}")), "{stdout}");
}
