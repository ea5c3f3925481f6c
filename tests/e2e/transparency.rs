//! End to end: the local history (`agent telemetry show`), the `local`
//! level, and `telemetry disable` forgetting the id, the spool and the
//! history, with the agent run as a process against a loopback collector.

use telemetry_test_support::agent::{past_notice, stdout, Agent};
use telemetry_test_support::collector::Collector;
use telemetry_test_support::records::event_ids;

const HISTORY_FILE: &str = "telemetry-history.jsonl";

/// `agent telemetry show --json [extra]`, parsed.
fn shown(agent: &Agent, extra: &[&str], env: &[(&str, &str)]) -> Vec<serde_json::Value> {
    let mut args = vec!["telemetry", "show", "--json"];
    args.extend_from_slice(extra);
    let output = agent.run_ok(&args, env);
    serde_json::from_str(&stdout(&output)).expect("show --json prints a JSON array")
}

#[test]
fn show_lists_exactly_the_records_the_collector_received() {
    let (collector, agent) = past_notice();
    agent.run_ok(&["run", "hello"], &[]);
    // The second run delivers from the background thread (the spool's path).
    agent.run(&["--delivery", "background", "fail"]);
    let received = collector.records();
    assert!(received.len() >= 6, "{received:?}");

    let entries = shown(&agent, &[], &[]);
    let records: Vec<_> = entries.iter().map(|entry| &entry["record"]).collect();
    assert_eq!(event_ids(records.iter().copied()), event_ids(&received));
    // Exactly as sent, field for field, with when and where.
    for (entry, sent) in entries.iter().zip(&received) {
        assert_eq!(&entry["record"], sent);
        assert_eq!(entry["host"], "127.0.0.1");
        assert!(entry["sent_at"].as_str().unwrap().ends_with('Z'), "{entry}");
    }
    let last_two = shown(&agent, &["--last", "2"], &[]);
    assert_eq!(last_two[..], entries[entries.len() - 2..]);

    // Plain: where the file is, then one line per record.
    let plain = stdout(&agent.run(&["telemetry", "show"]));
    let path = agent.config_dir().join(HISTORY_FILE);
    assert!(plain.contains(&path.display().to_string()), "{plain}");
    assert_eq!(plain.lines().count(), 1 + received.len(), "{plain}");
    assert!(
        plain.contains("  command  fail  error  127.0.0.1"),
        "{plain}"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Works when telemetry is off: it shows what was sent before.
    let off = shown(&agent, &[], &[("DO_NOT_TRACK", "1")]);
    assert_eq!(off, entries);
}

#[test]
fn the_history_is_bounded_oldest_dropped_first() {
    let (collector, agent) = past_notice();
    let path = agent.config_dir().join(HISTORY_FILE);
    let old: String = (0..1_000)
        .map(|n| {
            format!(
                "{{\"sent_at\":\"2026-01-01T00:00:00.000Z\",\"host\":\"h\",\"record\":{{\"event\":\"command\",\"properties\":{{\"event_id\":\"old-{n}\"}}}}}}\n"
            )
        })
        .collect();
    std::fs::write(&path, old).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    agent.run_ok(&["version"], &[]);
    let entries = shown(&agent, &[], &[]);
    assert_eq!(entries.len(), 1_000);
    let records: Vec<_> = entries.iter().map(|entry| &entry["record"]).collect();
    let ids = event_ids(records.iter().copied());
    assert_eq!(ids[0], "old-1");
    assert_eq!(ids[999], event_ids(&collector.records())[0]);
}

#[test]
fn the_local_level_opens_no_connection_and_show_lists_that_runs_records() {
    let (collector, agent) = past_notice();
    let local = [("AGENT_TELEMETRY_ENABLED", "local")];
    agent.run_ok(&["run", "hello"], &local);
    agent.run_with(&["--delivery", "background", "fail"], &local);
    assert_eq!(
        collector.connections(),
        0,
        "no connection at the local level"
    );

    let entries = shown(&agent, &[], &local);
    let events: Vec<_> = entries
        .iter()
        .map(|entry| entry["record"]["event"].clone())
        .collect();
    assert!(entries.len() >= 6, "{entries:?}");
    assert_eq!(events.last().unwrap(), "command");
    assert!(
        entries.iter().all(|entry| entry["host"].is_null()),
        "{entries:?}"
    );
    let plain = stdout(&agent.run(&["telemetry", "show"]));
    assert!(plain.contains("  command  fail  error  local"), "{plain}");

    let status = agent.status_json(&local);
    assert_eq!(status["level"], "local", "{status}");
    let text = stdout(&agent.run_with(&["telemetry", "status"], &local));
    assert!(text.contains("never sent"), "{text}");

    // The remembered choice does the same.
    assert!(agent
        .run(&["telemetry", "enable", "--local-only"])
        .status
        .success());
    agent.run(&["version"]);
    assert_eq!(collector.connections(), 0);
    assert_eq!(shown(&agent, &[], &[]).len(), entries.len() + 1);
}

#[test]
fn disable_leaves_no_id_spool_or_history_and_enable_starts_a_new_id() {
    let (collector, agent) = past_notice();
    agent.run_ok(&["run", "hello"], &[]);
    let dir = agent.config_dir();
    assert!(dir.join(telemetry_core::USER_UUID_FILE).exists());
    assert!(dir.join(HISTORY_FILE).exists());
    let old_id = collector.records()[0]["properties"]["user_uuid"].clone();

    let disabled = agent.run_ok(&["telemetry", "disable"], &[]);
    assert!(
        stdout(&disabled).contains("the local history were deleted"),
        "{disabled:?}"
    );
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !left.contains(&telemetry_core::USER_UUID_FILE.to_owned()),
        "{left:?}"
    );
    assert!(!left.contains(&HISTORY_FILE.to_owned()), "{left:?}");
    assert!(!left.iter().any(|name| name.contains("spool")), "{left:?}");
    assert!(shown(&agent, &[], &[]).is_empty());

    agent.run_ok(&["telemetry", "enable"], &[]);
    agent.run_ok(&["version"], &[]);
    let records = collector.records();
    let new_id = &records.last().unwrap()["properties"]["user_uuid"];
    assert_ne!(new_id, &old_id, "a new id after disable and enable");
}

fn deletion_requests(collector: &Collector) -> Vec<serde_json::Value> {
    collector
        .records()
        .into_iter()
        .filter(|record| record["event"] == telemetry_core::DELETION_REQUEST)
        .collect()
}

#[test]
fn delete_delivers_one_deletion_request_with_the_old_id_then_nothing_more() {
    let (collector, agent) = past_notice();
    agent.run_ok(&["version"], &[]);
    let old_id = collector.records()[0]["properties"]["user_uuid"].clone();
    let before = collector.records().len();

    let deleted = agent.run_ok(&["telemetry", "delete"], &[]);
    assert!(
        stdout(&deleted).contains("Deletion requested"),
        "{deleted:?}"
    );
    let records = collector.records();
    assert_eq!(records.len(), before + 1, "{records:?}");
    let requests = deletion_requests(&collector);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["properties"]["user_uuid"], old_id);
    assert!(!agent
        .config_dir()
        .join(telemetry_core::USER_UUID_FILE)
        .exists());
    assert!(!agent.config_dir().join(HISTORY_FILE).exists());

    let connections = collector.connections();
    for args in [&["version"][..], &["run", "hello"], &["fail"]] {
        agent.run(args);
    }
    assert_eq!(collector.connections(), connections, "nothing more is sent");
}

#[test]
fn a_deletion_request_the_collector_missed_is_sent_by_the_next_run_alone() {
    let down = Collector::start().unwrap();
    let addr = down.addr();
    let agent = Agent::after_first_run(&down.url());
    agent.run_ok(&["version"], &[]);
    let old_id = down.records()[0]["properties"]["user_uuid"].clone();
    drop(down);

    let deleted = agent.run_ok(&["telemetry", "delete"], &[]);
    assert!(
        stdout(&deleted).contains("kept and sent by a later run"),
        "{deleted:?}"
    );
    assert!(!agent
        .config_dir()
        .join(telemetry_core::USER_UUID_FILE)
        .exists());

    // The collector is back on the same address: the next run, off, sends
    // the request and nothing else; the run after it sends nothing.
    let back = Collector::builder().addr(addr).start().unwrap();
    agent.run(&["run", "hello"]);
    let records = back.records();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["event"], telemetry_core::DELETION_REQUEST);
    assert_eq!(records[0]["properties"]["user_uuid"], old_id);
    let connections = back.connections();
    agent.run(&["fail"]);
    assert_eq!(back.connections(), connections, "nothing more is sent");
    assert!(!agent
        .written_paths()
        .iter()
        .any(|path| path.to_string_lossy().contains("spool")));
}
