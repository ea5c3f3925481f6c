//! Forwarding into the real OpenTelemetry Collector (the one `.ci/run`
//! builds with `otelcol/build.sh`, file exporter): that collector is
//! stopped half-way and started again, and every `event_id` arrives at
//! least once. `#[ignore]`d: it needs the Go-built binary
//! (`target/otelcol/bin/otelcol-interop`, or `OTELCOL_BIN`).

use crate::generator;
use crate::harness::Collector;
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use telemetry_test_support::TempDir;

fn binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let binary = std::env::var_os("OTELCOL_BIN").map_or_else(
        || root.join("target/otelcol/bin/otelcol-interop"),
        PathBuf::from,
    );
    assert!(
        binary.is_file(),
        "no OpenTelemetry Collector at {}: build it with \
         `OTELCOL_CACHE=$PWD/target/otelcol otelcol/build.sh`, or set OTELCOL_BIN",
        binary.display()
    );
    binary
}

fn start_otelcol(port: u16, output: &Path, log: &Path) -> Child {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../otelcol/config.yaml");
    let log_file = std::fs::File::create(log).expect("log file");
    let mut child = Command::new(binary())
        .arg(format!("--config=file:{}", config.display()))
        .env("OTELCOL_HTTP_ENDPOINT", format!("127.0.0.1:{port}"))
        .env("OTELCOL_FILE", output)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log"))
        .stderr(log_file)
        .spawn()
        .expect("the OpenTelemetry Collector starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "otelcol did not listen: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "otelcol exited: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// Every `log.record.uid` in the file exporter's outputs.
fn uids(outputs: &[PathBuf]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for output in outputs {
        let text = std::fs::read_to_string(output).unwrap_or_default();
        for line in text.lines() {
            let Ok(request) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            for resource in request["resourceLogs"].as_array().into_iter().flatten() {
                for scope in resource["scopeLogs"].as_array().into_iter().flatten() {
                    for log in scope["logRecords"].as_array().into_iter().flatten() {
                        for attribute in log["attributes"].as_array().into_iter().flatten() {
                            if attribute["key"] == "log.record.uid" {
                                if let Some(uid) = attribute["value"]["stringValue"].as_str() {
                                    found.insert(uid.to_owned());
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    found
}

fn wait_for(outputs: &[PathBuf], wanted: &BTreeSet<String>) -> BTreeSet<String> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let found = uids(outputs);
        if wanted.is_subset(&found) || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
#[ignore = "needs the OpenTelemetry Collector built by otelcol/build.sh; run by .ci/run"]
fn forwarding_into_the_opentelemetry_collector_survives_its_restart() {
    let dir = TempDir::new("otelcol-forward");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let outputs = [dir.join("first.jsonl"), dir.join("second.jsonl")];
    let mut otelcol = start_otelcol(port, &outputs[0], &dir.join("first.log"));
    let collector = Collector::start(&["--forward-otlp", &format!("http://127.0.0.1:{port}")]);
    // Records with an event_id (an id-less one is forwarded without one).
    let records: Vec<Value> = generator::records(0x07e1, 2_000)
        .into_iter()
        .filter(|r| r["properties"]["event_id"].is_string())
        .collect();
    let id = |r: &Value| r["properties"]["event_id"].as_str().unwrap().to_owned();
    let (first, second) = records.split_at(records.len() / 2);
    for chunk in first.chunks(200) {
        assert_eq!(collector.post_records(chunk).0, 200);
    }
    let wanted: BTreeSet<String> = first.iter().map(id).collect();
    let found = wait_for(&outputs, &wanted);
    assert!(
        wanted.is_subset(&found),
        "{} of {} arrived",
        wanted.intersection(&found).count(),
        wanted.len()
    );

    // Half-way: the OpenTelemetry Collector stops; records keep coming.
    let _ = otelcol.kill();
    let _ = otelcol.wait();
    for chunk in second.chunks(200) {
        assert_eq!(collector.post_records(chunk).0, 200);
    }
    std::thread::sleep(Duration::from_secs(1));
    let mut otelcol = start_otelcol(port, &outputs[1], &dir.join("second.log"));
    let wanted: BTreeSet<String> = records.iter().map(id).collect();
    let found = wait_for(&outputs, &wanted);
    let _ = otelcol.kill();
    let _ = otelcol.wait();
    let missing: Vec<&String> = wanted.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "{} event_ids never arrived, e.g. {:?}",
        missing.len(),
        missing.first()
    );
}
