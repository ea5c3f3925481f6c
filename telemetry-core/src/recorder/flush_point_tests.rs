//! Background delivery at a short run's end: the outermost command's record
//! is sent by the flush point that follows it, with no sender thread; a
//! nested command's record starts one as any other record does.

use super::tracked::start_command;
use super::Recorder;
use crate::{Delivery, Outcome, Telemetry};
use std::sync::Arc;
use telemetry_test_support::collector::Collector;
use telemetry_test_support::TempDir;

/// A collector, a config dir, and a client that delivers to that collector
/// in the background, keeping its files in that dir; with its recorder.
fn scene(label: &str) -> (Collector, TempDir, Telemetry, Arc<Recorder>) {
    let collector = Collector::start().unwrap();
    let dir = TempDir::new(label);
    let telemetry = Telemetry::builder("flush-point-test", "1.0.0")
        .endpoint(collector.url())
        .config_dir(dir.path())
        .notice(false)
        .env(|_| None)
        .delivery(Delivery::Background)
        .build();
    let recorder = telemetry
        .clone()
        .into_client()
        .recorder()
        .cloned()
        .expect("telemetry is on");
    (collector, dir, telemetry, recorder)
}

fn sender_started(recorder: &Recorder) -> bool {
    recorder
        .background
        .as_ref()
        .expect("background delivery")
        .sender_started()
}

#[test]
fn the_outermost_commands_record_goes_at_its_flush_point_without_a_thread() {
    let (collector, _dir, telemetry, recorder) = scene("flush-point");
    telemetry.scope(|| {
        let command = start_command("version").expect("a current client");
        command.finish(Outcome::Success);
    });
    assert_eq!(collector.records().len(), 1, "sent by the flush point");
    assert!(!sender_started(&recorder));
}

#[test]
fn a_nested_commands_record_starts_the_sender() {
    let (collector, _dir, telemetry, recorder) = scene("flush-point-nested");
    telemetry.scope(|| {
        let outer = start_command("outer").expect("a current client");
        let inner = start_command("inner").expect("a current client");
        inner.finish(Outcome::Success);
        // No flush point at the inner command's end.
        assert!(sender_started(&recorder));
        outer.finish(Outcome::Success);
    });
    assert_eq!(collector.records().len(), 2);
}
