//! The deletion request: `telemetry delete` sends one `deletion_request`
//! record carrying the anonymous id being forgotten, so that the backend
//! can erase every record with that `user_uuid` (see
//! `docs/deletion.md`), then does what `telemetry disable` does.
//!
//! It is sent inline, within the sink's usual timeout and time budget.
//! When it cannot be delivered it is kept alone in the spool, and a later
//! run of the app sends it even though telemetry is then off: the only
//! record ever sent after an opt-out, and only this one (nothing else is
//! spooled or sent by that run). Once delivered, the spool is deleted. A
//! later run with telemetry on again and background delivery sends it
//! with its spool, as any spooled record.

use crate::consent::decide::{Destination, Verdict};
use crate::delivery::spool::{self, SpoolFile};
use crate::record::random;
use crate::settings::Settings;
use crate::sink::Sink;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

/// The `event` of a deletion request.
pub const DELETION_REQUEST: &str = "deletion_request";

/// The wire JSON of a deletion request for `user_uuid`, from `app` at
/// `version`: the usual envelope, with the id, the version and a fresh
/// `event_id` as its only properties.
pub(crate) fn record(app: &str, version: &str, user_uuid: &str) -> String {
    json!({
        "event": DELETION_REQUEST,
        "event_timestamp": spool::now_ms(),
        "source": app,
        "properties": {
            "user_uuid": user_uuid,
            "version": version,
            "event_id": random::format_uuid(random::uuid_v4()),
        },
    })
    .to_string()
}

/// Whether a spooled line is a deletion request.
pub(crate) fn is_deletion_request(line: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(line)
        .is_ok_and(|record| record["event"] == DELETION_REQUEST)
}

/// The deletion requests waiting in the spool of `dir`.
pub(crate) fn pending(dir: &Path) -> Vec<String> {
    spool::peek(dir)
        .into_iter()
        .filter(|line| is_deletion_request(line))
        .collect()
}

/// Keeps `lines` (deletion requests only) alone in a new spool file.
pub(crate) fn keep(dir: &Path, lines: &[String]) -> Result<(), spool::SpoolError> {
    let mut file = SpoolFile::create(dir)?;
    for line in lines {
        file.append_record(&mut line.clone())?;
    }
    file.sync()
}

/// Sends deletion requests through `sink`; `true` when delivered. A sink
/// that cannot send serialised records cannot send them.
pub(crate) fn send(sink: &dyn Sink, lines: &[String]) -> bool {
    sink.sends_serialised() && sink.send_serialised(lines).is_ok()
}

/// The sink a deletion request goes through: the app's own, else one for
/// the endpoint the decision found (refused endpoints give none).
pub(crate) fn sink_for(settings: &Settings, verdict: &Verdict) -> Option<Arc<dyn Sink>> {
    if let Some(sink) = &settings.sink {
        return Some(Arc::clone(sink));
    }
    let url = verdict.endpoint()?;
    let Destination::Endpoint { variable, .. } = &verdict.destination else {
        return None;
    };
    settings
        .http_sink(url, variable.is_some(), &|_| {})
        .ok()
        .map(|(sink, _)| sink)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deletion_request_carries_the_id_and_maps_to_an_otlp_event() {
        let line = record("my-cli", "1.2.3", "9f1c2d3e-0000-4000-8000-000000000000");
        assert!(is_deletion_request(&line));
        let wire: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            wire["properties"]["user_uuid"],
            "9f1c2d3e-0000-4000-8000-000000000000"
        );
        let log = crate::sink::protocol::otlp::log_record(&wire).unwrap();
        assert_eq!(log["eventName"], DELETION_REQUEST);
        let resource = crate::sink::protocol::otlp::resource(&wire).unwrap();
        assert!(resource
            .to_string()
            .contains("9f1c2d3e-0000-4000-8000-000000000000"));
        assert!(!is_deletion_request(r#"{"event":"command"}"#));
    }
}
