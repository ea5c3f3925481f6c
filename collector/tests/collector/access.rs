//! Who may read and who may ingest: loopback is open; any other address
//! needs `--token-file`, and then reads need the token (Bearer or Basic);
//! `--ingest-keys` binds an app's records to its keys.

use crate::harness::{command, exported, strings, Collector};
use serde_json::json;
use telemetry_test_support::TempDir;

#[test]
fn a_non_loopback_listen_without_a_token_refuses_to_start() {
    let dir = TempDir::new("listen");
    let output = command("serve", &dir.join("t.db"), &["--listen", "0.0.0.0:0"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--token-file"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(!dir.join("t.db").exists(), "nothing created");
}

#[test]
fn with_a_token_reads_need_it_and_ingest_stays_open() {
    let collector = Collector::with_file("--token-file", "s3cret-token\n");
    let record = json!({"event":"command","event_timestamp":1_767_225_600_000_i64,"source":"a",
                        "properties":{"action":"run","event_id":"t1"}});
    assert_eq!(collector.post_records(&[record]).0, 200);
    let path = "/api/v1/commands?app=a&from=2026-01-01&to=2026-01-01";
    for (authorization, status) in [
        (None, 401),
        (Some("Bearer wrong"), 401),
        (Some("Bearer s3cret-token"), 200),
        // A browser: HTTP Basic, any user, the token as password
        // ("me:s3cret-token").
        (Some("Basic bWU6czNjcmV0LXRva2Vu"), 200),
    ] {
        let headers: Vec<(&str, &str)> = authorization
            .map(|value| ("Authorization", value))
            .into_iter()
            .collect();
        let answer = collector.get(path, &headers);
        assert_eq!(answer.status, status, "{authorization:?}");
        if status == 401 {
            assert!(answer.asks_for_basic_auth(), "{}", answer.head);
        } else {
            assert_eq!(answer.json()["commands"][0]["calls"], 1);
        }
    }
    assert_eq!(collector.get("/", &[]).status, 401);
}

#[test]
fn ingest_keys_bind_an_apps_records_to_its_keys() {
    let collector = Collector::with_file("--ingest-keys", "# app key\nkeyed k-123\n");
    let record = |app: &str, id: &str| json!({"event":"command","event_timestamp":1_767_225_600_000_i64,"source":app,"properties":{"event_id":id}});
    let body = |records: Vec<serde_json::Value>| json!({ "records": records }).to_string();
    let post = |records, headers: &[(&str, &str)]| {
        collector
            .post("/v1/events", body(records).as_bytes(), headers)
            .0
    };
    assert_eq!(post(vec![record("open", "1")], &[]), 200);
    assert_eq!(post(vec![record("keyed", "2")], &[]), 401);
    assert_eq!(
        post(vec![record("keyed", "3")], &[("x-api-key", "k-999")]),
        401
    );
    assert_eq!(
        post(vec![record("open", "4"), record("keyed", "5")], &[]),
        401
    );
    assert_eq!(
        post(vec![record("keyed", "6")], &[("x-api-key", "k-123")]),
        200
    );
    let stored = exported(&collector.db);
    assert_eq!(strings(&stored, "/properties/event_id"), ["1", "6"]);
}
