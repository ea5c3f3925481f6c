//! `deletion_request` and `forget` leave no record of that install.

use crate::harness::{command, export, exported, strings, Collector};
use serde_json::{json, Value};

fn record(app: &str, user: &str, id: &str) -> Value {
    json!({"event":"command","event_timestamp":1_767_225_600_000_i64,"source":app,
           "properties":{"action":"run","is_success":true,"duration_ms":1,"user_uuid":user,"event_id":id}})
}

/// A collector holding a command record of each (app, install, event id).
fn holding(records: &[(&str, &str, &str)]) -> Collector {
    let collector = Collector::start(&[]);
    let records: Vec<Value> = records
        .iter()
        .map(|(app, user, id)| record(app, user, id))
        .collect();
    assert_eq!(collector.post_records(&records).0, 200);
    collector
}

#[test]
fn a_deletion_request_erases_that_install_for_its_app_and_is_counted() {
    let collector = holding(&[
        ("a", "gone", "1"),
        ("a", "gone", "2"),
        ("a", "kept", "3"),
        ("b", "gone", "4"),
    ]);
    let deletion = json!({"event":"deletion_request","event_timestamp":1_767_225_700_000_i64,"source":"a",
                          "properties":{"user_uuid":"gone","event_id":"d1"}});
    let (status, answer) = collector.post_records(std::slice::from_ref(&deletion));
    assert_eq!(
        (status, answer),
        (200, json!({"accepted": 1, "rejected": 0}))
    );
    // Sent again (a resend): counted once.
    assert_eq!(collector.post_records(&[deletion]).0, 200);
    let stored = exported(&collector.db);
    assert_eq!(strings(&stored, "/properties/event_id"), ["3", "4"]);
    let daily = collector.view_ok("daily", "app=a&from=2026-01-01&to=2026-01-01");
    assert_eq!(daily["deletion_requests"], 1);
    assert_eq!(daily["days"][0]["new_installs"], 1);
    assert_eq!(daily["days"][0]["active_installs"], 1);
    let (_, dir, db) = collector.stop();
    let bytes = std::fs::read(&db).unwrap();
    let wal = std::fs::read(format!("{}-wal", db.display())).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).into_owned() + &String::from_utf8_lossy(&wal);
    assert!(text.contains("kept"));
    // Install "gone" remains only in app b, which got no request.
    assert_eq!(
        exported(&db)
            .iter()
            .filter(|r| r["properties"]["user_uuid"] == "gone")
            .count(),
        1
    );
    drop(dir);
}

#[test]
fn forget_erases_every_record_of_an_install() {
    let collector = holding(&[("a", "gone", "1"), ("b", "gone", "2"), ("a", "kept", "3")]);
    let (_, dir, db) = collector.stop();
    let output = command("forget", &db, &["--install", "gone"]);
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("erased 2"));
    let left = exported(&db);
    assert_eq!(left, vec![record("a", "kept", "3")]);
    // The installs table forgot it too: a restarted collector counts one install.
    let collector = Collector::start_on(dir, db, &[]);
    let daily = collector.view_ok("daily", "app=a&from=2026-01-01&to=2026-01-01");
    assert_eq!(daily["days"][0]["new_installs"], 1);
}

#[test]
fn export_and_forget_refuse_a_missing_or_foreign_file() {
    let dir = telemetry_test_support::TempDir::new("files");
    let missing = dir.join("missing.db");
    let output = export(&missing, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no such file"),
        "{output:?}"
    );
    assert!(!missing.exists());
    let output = command("forget", &missing, &["--install", "x"]);
    assert_eq!(output.status.code(), Some(1));
    let text = dir.join("notes.txt");
    std::fs::write(
        &text,
        "not a database at all, just some text that is long enough to matter\n".repeat(20),
    )
    .unwrap();
    let before = std::fs::read(&text).unwrap();
    let output = export(&text, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("not a telemetry-collector database"),
        "{output:?}"
    );
    // serve refuses it too, and leaves it as it was.
    let output = command("serve", &text, &["--listen", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(std::fs::read(&text).unwrap(), before);
}

#[test]
fn a_database_from_a_newer_version_is_refused_and_left_alone() {
    let collector = Collector::start(&[]);
    let (_, dir, db) = collector.stop();
    let connection = rusqlite::Connection::open(&db).unwrap();
    connection.pragma_update(None, "user_version", 99).unwrap();
    drop(connection);
    let before = std::fs::read(&db).unwrap();
    let output = command("serve", &db, &["--listen", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("newer"), "{stderr}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
    drop(dir);
}
