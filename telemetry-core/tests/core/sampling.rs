//! Process sampling (`sample_rate`): a process draws once; out, it writes,
//! opens and sends nothing; in, every record carries the rate when it is
//! below 1. A bad rate is a clear line in debug mode, and means 1.0.

use crate::common::assert_says;
use telemetry_core::{MemorySink, OffReason, Telemetry};
use telemetry_test_support::net::{refused_addr, PortWatch};
use telemetry_test_support::{isolated, MemoryWriter, TempDir};

/// The largest rate below 1: a process is in unless its draw is exactly
/// 1 − 2⁻⁵³ (one chance in 2⁵³), so the test is deterministic in practice.
const ALMOST_ONE: f64 = 1.0 - f64::EPSILON / 2.0;

#[test]
fn a_sampled_out_process_writes_opens_and_sends_nothing() {
    let addr = refused_addr();
    let watch = PortWatch::bind(addr);
    let dir = TempDir::new("sampled-out");
    let config_dir = dir.join("config");
    let log = MemoryWriter::new();
    let telemetry = Telemetry::builder("sampling-test", "1.0.0")
        .endpoint(format!("http://{addr}/v1/events"))
        .config_dir(&config_dir)
        .env(|_| None)
        .debug_writer(log.clone())
        .sample_rate(0.0)
        .build();
    assert!(!telemetry.is_enabled());
    assert_eq!(telemetry.off_reason(), Some(&OffReason::SampledOut));
    let session = telemetry.start_session("root");
    telemetry.track_command("run", ["x"]);
    session.end();
    drop(telemetry.flush_guard());
    assert_eq!(watch.connections(), 0);
    assert!(!config_dir.exists(), "no file, no dir");
    assert_says(&log.text(), &["this process was sampled out"], &[]);
}

#[test]
fn every_record_of_a_sampled_in_process_carries_the_rate() {
    let sink = MemorySink::new();
    let telemetry = isolated("sampling-test", "1.0.0")
        .sink(sink.clone())
        .sample_rate(ALMOST_ONE)
        .build();
    assert!(telemetry.is_enabled());
    let session = telemetry.start_session("root");
    telemetry.record_token_usage("m", 1, 1, 0.0);
    session.end();
    telemetry.track_command("run", ["x"]);
    let records = sink.records();
    assert_eq!(records.len(), 4);
    for record in records {
        let value = serde_json::to_value(&record).unwrap();
        assert_eq!(value["properties"]["sample_rate"], ALMOST_ONE, "{value}");
    }
}

#[test]
fn at_rate_one_records_carry_no_sample_rate_and_a_tag_cannot_add_one() {
    let sink = MemorySink::new();
    let telemetry = isolated("sampling-test", "1.0.0")
        .sink(sink.clone())
        .env_vars([("TELEMETRY_TAGS", "sample_rate=0.001,team=core")])
        .sample_rate(1.0)
        .build();
    telemetry.track_command("run", ["x"]);
    let value = serde_json::to_value(&sink.records()[0]).unwrap();
    assert!(value["properties"].get("sample_rate").is_none(), "{value}");
    assert_eq!(value["properties"]["team"], "core");
}

#[test]
fn log_mode_says_whether_this_process_was_sampled_in() {
    for (rate, said, records) in [
        (0.0, "this process was sampled out (sample_rate 0)", 0),
        (
            ALMOST_ONE,
            "this process was sampled in (sample_rate 0.9999",
            1,
        ),
    ] {
        let log = MemoryWriter::new();
        let telemetry = isolated("sampling-test", "1.0.0")
            .endpoint("http://127.0.0.1:9/v1/events")
            .env_vars([("TELEMETRY_ENABLED", "log")])
            .debug(false)
            .debug_writer(log.clone())
            .sample_rate(rate)
            .build();
        telemetry.track_command("run", ["x"]);
        let text = log.text();
        assert!(text.contains(said), "{rate}: {text}");
        assert_eq!(
            text.matches("\"event\":\"command\"").count(),
            records,
            "{text}"
        );
    }
}

#[test]
fn a_bad_rate_is_a_clear_line_in_debug_mode_and_every_process_sends() {
    for rate in [1.5, -0.1, f64::NAN] {
        let log = MemoryWriter::new();
        let sink = MemorySink::new();
        let telemetry = isolated("sampling-test", "1.0.0")
            .sink(sink.clone())
            .debug_writer(log.clone())
            .sample_rate(rate)
            .build();
        assert!(telemetry.is_enabled(), "{rate}");
        telemetry.track_command("run", ["x"]);
        let text = log.text();
        assert!(
            text.contains("sample_rate must be a number from 0.0 to 1.0"),
            "{rate}: {text}"
        );
        assert!(text.contains("using 1.0"), "{rate}: {text}");
        let records = sink.records();
        assert_eq!(records.len(), 1, "{rate}");
        let record = serde_json::to_value(&records[0]).unwrap();
        assert!(
            record["properties"].get("sample_rate").is_none(),
            "{rate}: {record}"
        );
    }
}
