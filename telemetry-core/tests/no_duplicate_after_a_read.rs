//! Regression: a collector that reads a request and then closes the
//! connection without answering received the same `event_id` twice,
//! because the HTTP sink resent every request that failed mid-way, on a
//! fresh connection too. A request that may have been read is never sent
//! again.

use std::time::Duration;
use telemetry_collector::{Behaviour, Collector};
use telemetry_core::Telemetry;

#[test]
fn a_server_closing_after_reading_the_body_gets_each_event_once() {
    let collector = Collector::start_with(Behaviour::CloseAfterReading).unwrap();
    let telemetry = Telemetry::isolated("duplicate-test", "1.0.0")
        .endpoint(collector.url())
        .timeout(Duration::from_secs(5))
        .build();
    telemetry.track_command("first", Vec::<String>::new());
    let requests = collector.requests();
    assert_eq!(requests.len(), 1, "sent again after it was read");
    assert_eq!(collector.records().len(), 1);
}

#[test]
fn a_server_closing_after_reading_gets_each_event_once_inside_a_runtime() {
    let collector = Collector::start_with(Behaviour::CloseAfterReading).unwrap();
    let telemetry = Telemetry::isolated("duplicate-test", "1.0.0")
        .endpoint(collector.url())
        .timeout(Duration::from_secs(5))
        .build();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async { telemetry.track_command("first", Vec::<String>::new()) });
    assert_eq!(
        collector.requests().len(),
        1,
        "sent again after it was read"
    );
}
