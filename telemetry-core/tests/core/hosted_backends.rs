//! What a hosted backend needs from the builder: the app's own headers
//! (to its own endpoint only, never printed), batch limits, and the
//! compression defaults of each wire format.

use crate::common::{assert_says, scene};
use std::time::Duration;
use telemetry_core::{Compression, Delivery, Export, Outcome, Telemetry};
use telemetry_test_support::collector::{Behaviour, Collector};
use telemetry_test_support::{MemoryWriter, TempDir};

const SECRET: &str = "Bearer sk-hosted-secret-0042";

fn builder(endpoint: &str, dir: &TempDir) -> telemetry_core::TelemetryBuilder {
    Telemetry::builder("hosted-test", "1.0.0")
        .endpoint(endpoint)
        .config_dir(dir.path())
        .notice(false)
        .env(|_| None)
}

#[test]
fn the_header_reaches_the_apps_endpoint_and_is_never_printed() {
    let (collector, dir, log) = scene("hosted-header");
    let builder = builder(&collector.url(), &dir)
        .header("Authorization", SECRET)
        .header("x-team", "core")
        .debug_writer(log.clone());
    let shown = format!("{builder:?}");
    assert!(
        shown.contains("<redacted>") && !shown.contains("sk-hosted"),
        "{shown}"
    );
    let telemetry = builder.build();
    telemetry.track_command("run", Vec::<String>::new());
    let requests = collector.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header("authorization"), Some(SECRET));
    assert_eq!(requests[0].header("x-team"), Some("core"));
    assert!(!log.text().contains("sk-hosted"), "{}", log.text());
    assert!(!format!("{telemetry:?}").contains("sk-hosted"));
}

#[test]
fn the_header_never_goes_to_an_endpoint_from_the_environment() {
    let own = Collector::start().unwrap();
    let other = Collector::start().unwrap();
    let dir = TempDir::new("hosted-env");
    let log = MemoryWriter::new();
    let other_url = other.url();
    let telemetry = builder(&own.url(), &dir)
        .env(move |name| (name == "TELEMETRY_ENDPOINT").then(|| other_url.clone().into()))
        .header("Authorization", SECRET)
        .debug_writer(log.clone())
        .build();
    telemetry.track_command("run", Vec::<String>::new());
    assert!(own.requests().is_empty());
    let requests = other.requests();
    assert_eq!(requests.len(), 1, "records still go there");
    assert_eq!(requests[0].header("authorization"), None);
    assert_says(&log.text(), &["header(s) of the app withheld"], &[]);
}

#[test]
fn an_invalid_header_is_left_out_and_debug_mode_says_why() {
    let (collector, dir, log) = scene("hosted-bad-header");
    let telemetry = builder(&collector.url(), &dir)
        .header("bad header", "x")
        .header("x-ok", "line\nbreak sk-hosted-secret")
        .header("Content-Type", "text/plain")
        .header("x-good", "yes")
        .debug_writer(log.clone())
        .build();
    assert!(telemetry.is_enabled());
    telemetry.track_command("run", Vec::<String>::new());
    let request = &collector.requests()[0];
    assert_eq!(request.header("x-good"), Some("yes"));
    assert_eq!(request.header("x-ok"), None);
    assert_eq!(request.header("content-type"), Some("application/json"));
    let said = [
        "\"bad header\" is not a valid HTTP header name",
        "the value of the header x-ok",
        "content-type is set by the toolkit",
    ];
    assert_says(&log.text(), &said, &["sk-hosted"]);
}

#[test]
fn batch_limits_cap_each_request_and_an_oversized_record_is_dropped() {
    let (collector, dir, _) = scene("hosted-batches");
    let telemetry = builder(&collector.url(), &dir)
        .delivery(Delivery::Background)
        .batch_limits(3, 100_000)
        .build();
    for _ in 0..10 {
        telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    }
    telemetry.flush(Duration::from_secs(10));
    let sizes: Vec<usize> = collector
        .requests()
        .iter()
        .map(|request| {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            body["records"].as_array().unwrap().len()
        })
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 10);
    assert!(sizes.iter().all(|size| *size <= 3), "{sizes:?}");

    // Every record is larger than 200 bytes: each is dropped, and said.
    let (collector, dir, log) = scene("hosted-too-large");
    let telemetry = builder(&collector.url(), &dir)
        .delivery(Delivery::Background)
        .batch_limits(10, 200)
        .debug_writer(log.clone())
        .build();
    telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    telemetry.flush(Duration::from_secs(5));
    // Nothing of it is sent: only the client_report that counts it.
    let records = collector.records();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["event"], "client_report");
    assert_eq!(records[0]["properties"]["dropped"]["batch_too_large"], 1);
    assert!(
        log.text()
            .contains("is larger than a batch may be (200 bytes)"),
        "{}",
        log.text()
    );
    assert!(telemetry_test_support::spool::pending(dir.path()).is_empty());
}

#[test]
fn records_go_uncompressed_and_otlp_gzipped_unless_asked_otherwise() {
    let cases = [
        (Export::Records, None, None),
        (Export::Records, Some(Compression::Gzip), Some("gzip")),
        (Export::Otlp, None, Some("gzip")),
        (Export::Otlp, Some(Compression::None), None),
    ];
    for (export, compression, expected) in cases {
        let collector = Collector::start_with(Behaviour::Status(200)).unwrap();
        let dir = TempDir::new("hosted-gzip");
        let mut builder = builder(&collector.url(), &dir).export(export);
        if let Some(compression) = compression {
            builder = builder.compression(compression);
        }
        builder.build().track_command("run", Vec::<String>::new());
        let request = &collector.requests()[0];
        assert_eq!(
            request.header("content-encoding"),
            expected,
            "{export:?} {compression:?}"
        );
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert!(body.is_object());
    }
}

/// A refused connection stops the sender and is remembered: a later
/// client of the same config dir and endpoint, within the wait, attempts
/// nothing and says why; `status` shows the wait; a client pointed at
/// another endpoint is not held back.
#[test]
fn a_transport_failure_holds_back_later_clients_of_that_endpoint() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}/v1/events");
    let dir = TempDir::new("hosted-transport");
    let first = builder(&dead, &dir).build();
    first.track_command("run", Vec::<String>::new());
    drop(first);
    assert!(dir.path().join("retry-after").is_file());
    let status = builder(&dead, &dir).controls().status();
    assert!(status.wait_until_ms.is_some());
    assert!(
        status.to_string().contains("Collector asked to wait until"),
        "{status}"
    );

    let log = MemoryWriter::new();
    let later = builder(&dead, &dir).debug_writer(log.clone()).build();
    later.track_command("run", Vec::<String>::new());
    let text = log.text();
    assert!(
        text.contains("not sent: the collector asked to wait until"),
        "{text}"
    );

    let collector = Collector::start().unwrap();
    let other = builder(&collector.url(), &dir).build();
    other.track_command("run", Vec::<String>::new());
    assert_eq!(collector.records().len(), 1);
}
