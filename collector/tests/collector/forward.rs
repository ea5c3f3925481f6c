//! `--forward-otlp`: every stored record reaches the collector behind, as
//! OTLP, across a restart of that collector; deletion requests too. The
//! collector behind is a second `telemetry-collector` (its `/v1/logs`), so
//! its export must equal the first one's: the mapping there and back.

use crate::generator;
use crate::harness::{exported, Collector};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn ids(records: &[Value]) -> BTreeSet<String> {
    records.iter().map(|record| record.to_string()).collect()
}

/// Waits until `db`'s export holds `count` records (the downstream commits
/// each request before answering; polling its file is what a user sees).
fn wait_for(db: &std::path::Path, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let records = exported(db);
        if records.len() >= count || Instant::now() > deadline {
            return records;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn forwarding_survives_the_downstream_restart_and_carries_deletions() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let downstream = Collector::start(&["--listen", &listen]);
    let url = format!("http://{listen}");
    let upstream = Collector::start(&["--forward-otlp", &url]);
    let records = generator::records(0xf0, 600);
    let (first, second) = records.split_at(300);
    for chunk in first.chunks(100) {
        assert_eq!(upstream.post_records(chunk).0, 200);
    }
    assert_eq!(wait_for(&downstream.db, 300).len(), 300);

    // The downstream goes away; the upstream keeps accepting.
    let (status, dir, db) = downstream.stop();
    assert!(status.success());
    for chunk in second.chunks(100) {
        assert_eq!(upstream.post_records(chunk).0, 200);
    }
    let gone = first[0]["properties"]["user_uuid"].clone();
    let deletion = json!({"event":"deletion_request","event_timestamp": generator::START_MS,
        "source": first[0]["source"], "properties": {"user_uuid": gone, "event_id": "forwarded-deletion"}});
    assert_eq!(upstream.post_records(&[deletion]).0, 200);
    std::thread::sleep(Duration::from_millis(700));

    // Back on the same port and file: everything arrives, once per id.
    let downstream = Collector::start_on(dir, db, &["--listen", &listen]);
    let expected = exported(&upstream.db);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut got = exported(&downstream.db);
    while ids(&got) != ids(&expected) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        got = exported(&downstream.db);
    }
    assert_eq!(got.len(), expected.len());
    assert_eq!(
        ids(&got),
        ids(&expected),
        "the downstream holds what the upstream holds"
    );
    assert!(got
        .iter()
        .all(|r| r["properties"]["user_uuid"] != gone || r["source"] != first[0]["source"]));
    let daily = downstream.view_ok(
        "daily",
        &format!(
            "app={}&from=2026-01-01&to=2026-01-10",
            first[0]["source"].as_str().unwrap()
        ),
    );
    assert_eq!(daily["deletion_requests"], 1);
}
