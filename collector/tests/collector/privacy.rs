//! The database holds no network address, no User-Agent and no header
//! value: only the records.

use crate::harness::Collector;
use serde_json::json;

#[test]
fn neither_address_nor_user_agent_nor_headers_reach_the_database_file() {
    let collector = Collector::start(&[]);
    let agent = "canary-agent/9.8.7 (ua-marker-71c2)";
    let header = "header-marker-5a9e";
    let body = json!({"records": [{"event":"command","event_timestamp":1_767_225_600_000_i64,
        "source":"p","properties":{"action":"run","event_id":"p1"}}]})
    .to_string();
    let (status, _) = collector.post(
        "/v1/events",
        body.as_bytes(),
        &[
            ("User-Agent", agent),
            ("X-Forwarded-For", "203.0.113.77"),
            ("X-Custom", header),
            ("x-api-key", header),
        ],
    );
    assert_eq!(status, 200);
    let otlp = telemetry_core::otlp::export_logs_request([
        &json!({"event":"tool","event_timestamp":1_767_225_600_001_i64,
        "source":"p","properties":{"tool_name":"t","event_id":"p2"}}),
    ]);
    let (status, _) = collector.post(
        "/v1/logs",
        otlp.to_string().as_bytes(),
        &[("User-Agent", agent)],
    );
    assert_eq!(status, 200);
    let (_, dir, db) = collector.stop();
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", db.display());
        if let Ok(content) = std::fs::read(&path) {
            bytes.extend(content);
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("p1") && text.contains("p2"),
        "the records are there"
    );
    for needle in [
        "127.0.0.1",
        "203.0.113.77",
        "ua-marker-71c2",
        "canary-agent",
        header,
    ] {
        assert!(!text.contains(needle), "{needle} is in the database");
    }
    drop(dir);
}
