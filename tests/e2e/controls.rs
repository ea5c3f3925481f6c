//! End to end: `agent telemetry status [--json] | enable | disable |
//! reset-id`, the per-app variables, log-only mode, and the `ci_provider`
//! and `ai_agent` fields, with the agent run as a process against a
//! loopback collector.

use telemetry_test_support::agent::{past_notice, stderr, stdout, Agent};
use telemetry_test_support::collector::Collector;
use telemetry_test_support::records::strings;

fn user_uuids(collector: &Collector) -> Vec<String> {
    strings(&collector.records(), "user_uuid")
}

#[test]
fn disable_stops_every_later_run_and_status_names_the_remembered_choice() {
    let (collector, agent) = past_notice();
    agent.run_ok(&["version"], &[]);
    assert_eq!(collector.records().len(), 1, "on before disabling");
    let connections = collector.connections();

    agent.run_ok(&["telemetry", "disable"], &[]);
    for args in [&["version"][..], &["run", "hello"], &["fail"]] {
        agent.run(args);
    }
    assert_eq!(
        collector.connections(),
        connections,
        "no connection after disable"
    );
    assert_eq!(collector.records().len(), 1);

    let json = agent.status_json(&[]);
    assert_eq!(json["enabled"], false);
    assert_eq!(json["decided_by"], "remembered_choice");
    let text = stdout(&agent.run(&["telemetry", "status"]));
    assert!(text.starts_with("Telemetry is off."), "{text}");
    assert!(text.contains("Run `telemetry enable`"), "{text}");

    agent.run_ok(&["telemetry", "enable"], &[]);
    agent.run(&["version"]);
    assert_eq!(collector.records().len(), 2, "on again after enable");
}

#[test]
fn do_not_track_beats_enable() {
    let (collector, agent) = past_notice();
    agent.run_ok(&["telemetry", "enable"], &[]);
    let dnt = [("DO_NOT_TRACK", "1")];
    agent.run_with(&["version"], &dnt);
    assert_eq!(collector.connections(), 0);
    let json = agent.status_json(&dnt);
    assert_eq!(json["decided_by"], "do_not_track");
    assert_eq!(json["variable"], "DO_NOT_TRACK");
    assert_eq!(json["enabled"], false);
}

#[test]
fn the_agents_own_variable_turns_it_off_while_telemetry_enabled_is_true() {
    let (collector, agent) = past_notice();
    let vars = [
        ("AGENT_TELEMETRY_ENABLED", "false"),
        ("TELEMETRY_ENABLED", "true"),
    ];
    let run = agent.run_with(&["--debug", "version"], &vars);
    assert!(
        stderr(&run).contains("telemetry is off: AGENT_TELEMETRY_ENABLED is false"),
        "{run:?}"
    );
    assert_eq!(collector.connections(), 0);
    let json = agent.status_json(&vars);
    assert_eq!(json["decided_by"], "app_variable");
    assert_eq!(json["variable"], "AGENT_TELEMETRY_ENABLED");
    assert_eq!(json["value"], "false");
}

#[test]
fn reset_id_gives_a_new_user_uuid_on_the_next_record() {
    let (collector, agent) = past_notice();
    agent.run(&["version"]);
    agent.run(&["version"]);
    agent.run_ok(&["telemetry", "reset-id"], &[]);
    agent.run(&["version"]);
    let ids = user_uuids(&collector);
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(ids[0], ids[1]);
    assert_ne!(ids[2], ids[1], "a new id after reset-id");
    assert!(telemetry_test_support::is_uuid(&ids[2]));
}

#[test]
fn log_mode_prints_the_records_and_opens_no_connection() {
    let collector = Collector::start().unwrap();
    let agent = Agent::new(&collector.url());
    for vars in [
        [("TELEMETRY_ENABLED", "log")],
        [("AGENT_TELEMETRY_ENABLED", "log")],
    ] {
        let run = agent.run_ok(&["run", "my secret prompt"], &vars);
        let text = stderr(&run);
        let records: Vec<serde_json::Value> = text
            .lines()
            .filter_map(|line| line.strip_prefix("[telemetry] "))
            .map(|json| serde_json::from_str(json).expect("a printed record is JSON"))
            .collect();
        let kinds: Vec<&str> = records
            .iter()
            .map(|r| r["event"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["session", "tool", "token", "tool", "tool", "token", "session", "command"],
            "{text}"
        );
        let printed: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("[telemetry]"))
            .collect();
        assert!(
            printed.iter().all(|line| !line.contains("secret")),
            "{text}"
        );
        assert!(
            !text.contains("collects anonymous usage data"),
            "no notice: {text}"
        );
        let json = agent.status_json(&vars);
        assert_eq!(json["mode"], "log");
        assert_eq!(json["enabled"], false);
    }
    assert_eq!(collector.connections(), 0);
}

#[test]
fn the_telemetry_subcommands_send_nothing_and_write_only_the_choice() {
    let collector = Collector::start().unwrap();
    let agent = Agent::new(&collector.url());
    for args in [
        &["telemetry", "status"][..],
        &["telemetry", "status", "--json"],
        &["--debug", "telemetry", "status"],
        &["telemetry", "enable"],
        &["telemetry", "reset-id"],
        &["telemetry", "disable"],
    ] {
        let run = agent.run(args);
        assert!(run.status.success(), "{args:?}: {run:?}");
        assert!(!stderr(&run).contains("[telemetry]"), "{args:?}: {run:?}");
        assert!(
            !stderr(&run).contains("collects anonymous usage"),
            "no notice"
        );
    }
    assert_eq!(collector.connections(), 0);
    assert_eq!(
        agent.written_paths(),
        [
            agent.config_dir(),
            agent.config_dir().join("telemetry-choice")
        ]
    );

    let bad = agent.run(&["telemetry", "frobnicate"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn the_status_json_has_the_documented_schema() {
    let agent = Agent::new("http://127.0.0.1:9/v1/events?key=k3y");
    let json = agent.status_json(&[("LANG", "C")]);
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "choice_file",
            "ci_policy",
            "collected",
            "config_dir",
            "decided_by",
            "delivery",
            "destination",
            "enabled",
            "explanation",
            "id_file",
            "level",
            "mode",
            "not_collected",
            "notice_shown",
            "notice_version_seen",
            "policy_file",
            "schema_version",
            "value",
            "variable",
            "wait_until_ms",
        ]
    );
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["enabled"], true);
    assert_eq!(json["decided_by"], "default");
    assert_eq!(json["destination"], "http://127.0.0.1:9");
    assert_eq!(json["notice_shown"], false);
    let config_dir = agent.config_dir();
    assert_eq!(json["config_dir"], config_dir.to_str().unwrap());
    assert_eq!(
        json["id_file"],
        config_dir.join("user-uuid").to_str().unwrap()
    );
    let text = json.to_string();
    for secret in ["k3y", "/v1/events"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    // Credentials in the endpoint: the run refuses it (they would become
    // an Authorization header), and so does the status, without them.
    let agent = Agent::new("http://user:secret@127.0.0.1:9/v1/events?key=k3y");
    let json = agent.status_json(&[("LANG", "C")]);
    assert_eq!(json["enabled"], false);
    assert_eq!(json["decided_by"], "invalid_endpoint");
    let text = json.to_string();
    for secret in ["secret", "k3y", "/v1/events"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[test]
fn ci_provider_and_ai_agent_are_recorded_for_fake_environments() {
    let (collector, agent) = past_notice();
    type Vars = &'static [(&'static str, &'static str)];
    let cases: [(Vars, &str, &str); 4] = [
        (&[], "", ""),
        (
            &[("GITHUB_ACTIONS", "true"), ("CI", "true")],
            "github_actions",
            "",
        ),
        (
            &[("BUILDKITE", "true"), ("CLAUDECODE", "1")],
            "buildkite",
            "claude_code",
        ),
        (&[("GEMINI_CLI", "1")], "", "gemini_cli"),
    ];
    for (index, (vars, ci_provider, ai_agent)) in cases.iter().enumerate() {
        agent.run_with(&["version"], vars);
        let records = collector.records();
        assert_eq!(records.len(), index + 1);
        let properties = &records[index]["properties"];
        assert_eq!(properties["ci_provider"], *ci_provider, "{vars:?}");
        assert_eq!(properties["ai_agent"], *ai_agent, "{vars:?}");
    }
}
