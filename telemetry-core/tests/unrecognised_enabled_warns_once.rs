//! An unrecognised `TELEMETRY_ENABLED` fails closed with one warning line.
//! The warning is printed once per process, so this is the only test in its
//! binary: no other test can have printed it first.

mod common;

use common::SharedBuf;
use telemetry_core::{MemorySink, Telemetry};

fn build(value: &str, warnings: &SharedBuf) -> Telemetry {
    Telemetry::builder("warn-test", "1.0.0")
        .sink(MemorySink::new())
        .notice_writer(warnings.clone())
        .env_vars([("TELEMETRY_ENABLED", value)])
        .build()
}

#[test]
fn an_unrecognised_value_warns_with_one_line_once_per_process() {
    // A recognised value warns about nothing.
    let quiet = SharedBuf::new();
    assert!(!build("false", &quiet).is_enabled());
    assert!(quiet.is_empty(), "{}", quiet.text());

    let first = SharedBuf::new();
    assert!(!build("fasle", &first).is_enabled());
    let lines = first.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("TELEMETRY_ENABLED"), "{lines:?}");

    let second = SharedBuf::new();
    assert!(!build("enabled", &second).is_enabled());
    assert!(second.is_empty(), "{}", second.text());
}
