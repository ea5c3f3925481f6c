//! An isolated client: the builder chain every in-process test starts from.

use telemetry_core::{MemorySink, Telemetry, TelemetryBuilder};

/// A builder for `app` `version` that reads no environment variable (so no
/// `DO_NOT_TRACK`, `TELEMETRY_*`, `HOME` or `XDG_CONFIG_HOME` of the test
/// run can change it, and no config dir is found unless the test gives one)
/// and shows no first-run notice (so nothing is held).
///
/// Every test that wants such a client starts here; it is the core's own
/// [`Telemetry::isolated`], which also keeps the anonymous id in memory
/// unless the test gives a config dir.
pub fn isolated(app: &str, version: &str) -> TelemetryBuilder {
    Telemetry::isolated(app, version)
}

/// An enabled [`isolated`] client for `app` 1.0.0 that records into the
/// returned sink. Panics if the client is not enabled.
pub fn memory_client(app: &str) -> (Telemetry, MemorySink) {
    let sink = MemorySink::new();
    let telemetry = isolated(app, "1.0.0").sink(sink.clone()).build();
    assert!(telemetry.is_enabled(), "an isolated memory client is on");
    (telemetry, sink)
}
