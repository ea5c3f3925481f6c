//! The fixed data set of the page's and the report's text snapshots
//! (`tests/fixtures/overview.json`, in the views' API shapes), and the
//! snapshot check itself.
//!
//! `UPDATE_SNAPSHOTS=1 cargo test -p telemetry-collector --test collector
//! snapshot` rewrites the snapshots after a deliberate change; review their
//! diff.

use serde_json::Value;
use std::path::PathBuf;
use telemetry_collector::overview::Overview;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// The fixture as JSON.
pub fn fixture_json() -> Value {
    let text = std::fs::read_to_string(dir().join("fixtures/overview.json")).expect("the fixture");
    serde_json::from_str(&text).expect("the fixture is JSON")
}

/// The fixture as the views' answers.
pub fn fixture() -> Overview {
    Overview::from_json(&fixture_json())
}

/// Compares with the stored snapshot `tests/snapshots/NAME`, or rewrites it
/// under `UPDATE_SNAPSHOTS`.
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = dir().join("snapshots").join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("write the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{name} differs from the snapshot at line {}:\n  expected: {:?}\n  actual:   {:?}\n(UPDATE_SNAPSHOTS=1 rewrites it)",
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}
