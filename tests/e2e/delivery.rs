//! End to end: inline delivery loses nothing at exit. cagent delivered 0 of 10
//! events when its process exited right after recording; here each event has
//! reached the collector by the time the agent's process has exited, checked
//! without any waiting.

use telemetry_test_support::agent::past_notice;

#[test]
fn every_version_event_has_arrived_when_the_process_exits() {
    let (collector, agent) = past_notice();
    for run in 1..=10 {
        agent.run_ok(&["version"], &[]);
        // No wait: the records are read the moment the process has exited.
        let records = collector.records();
        assert_eq!(records.len(), run, "after run {run}: {records:#?}");
        assert_eq!(records[run - 1]["properties"]["action"], "version");
    }
    // One anonymous id for every run from this config dir.
    let ids: std::collections::BTreeSet<String> = collector
        .records()
        .iter()
        .map(|record| record["properties"]["user_uuid"].to_string())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
}
