//! End to end: the exact records the `agent` example sends for each of its
//! commands, over real HTTP to a collector on 127.0.0.1.
//!
//! The agent runs as its own process (see `telemetry_test_support::agent`
//! for how it is built and found, and for its environment: empty but for
//! what each test sets).

use serde_json::{json, Value};
use telemetry_test_support::agent::{
    event_part, past_notice, stderr, stdout, Agent, AGENT_VERSION,
};
use telemetry_test_support::json::now_ms;

const IO_ERROR: &str = "NotFound";

fn user_uuid(agent: &Agent) -> String {
    let text = std::fs::read_to_string(agent.config_dir().join("user-uuid")).unwrap();
    text.trim().to_owned()
}

#[test]
fn version_sends_one_command_event() {
    let (collector, agent) = past_notice();
    let before = now_ms();
    let output = agent.run(&["version"]);
    let after = now_ms();

    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout(&output), format!("agent {AGENT_VERSION}\n"));
    assert_eq!(stderr(&output), "");
    let records = collector.records();
    assert_eq!(records.len(), 1, "{records:#?}");
    let record = &records[0];
    assert_eq!(
        event_part(record, &user_uuid(&agent)),
        json!({"event": "command", "properties": {
            "action": "version", "args": [], "is_success": true, "duration_ms": "<ms>",
        }})
    );
    let timestamp = record["event_timestamp"].as_u64().unwrap();
    assert!(
        (before..=after).contains(&timestamp),
        "{before} <= {timestamp} <= {after}"
    );

    let requests = collector.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.path, "/v1/events");
    assert_eq!(request.header("content-type"), Some("application/json"));
    let user_agent = format!("agent/{AGENT_VERSION}");
    assert_eq!(request.header("user-agent"), Some(user_agent.as_str()));
    assert_eq!(request.header("x-api-key"), None);
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    let sent_at = body["sent_at"].as_u64().expect("sent_at, epoch ms");
    assert!(
        (timestamp..=after).contains(&sent_at),
        "sent after it was made"
    );
    assert_eq!(body, json!({ "records": [record], "sent_at": sent_at }));
}

#[test]
fn run_sends_the_session_its_tools_its_tokens_and_the_command() {
    let (collector, agent) = past_notice();
    let output = agent.run_ok(&["run", "--model", "gpt-4o", "plan my trip"], &[]);
    assert_eq!(
        stdout(&output),
        "root (gpt-4o): done in 3 steps, using 1 note(s). (This example calls no model.)\n"
    );
    let records = collector.records();
    let uuid = user_uuid(&agent);
    let parts: Vec<Value> = records.iter().map(|r| event_part(r, &uuid)).collect();
    let tool = |name: &str, error: Option<&str>| {
        let mut properties = json!({
            "action": "call", "tool_name": name, "session_id": "<session>",
            "agent_name": "root", "duration_ms": "<ms>", "is_success": error.is_none(),
        });
        if let Some(kind) = error {
            properties["error"] = json!(kind);
        }
        json!({ "event": "tool", "properties": properties })
    };
    let token = |input: u64, output: u64, cost: f64| {
        json!({"event": "token", "properties": {
            "action": "usage", "session_id": "<session>", "agent_name": "root",
            "model_name": "gpt-4o", "input_tokens": input, "output_tokens": output,
            "total_tokens": input + output, "cost": cost,
        }})
    };
    // gpt-4o at the example's prices: $2.50 per million input tokens, $10 output.
    let expected = vec![
        json!({"event": "session", "properties": {
            "action": "start", "session_id": "<session>", "agent_name": "root",
        }}),
        tool("plan_steps", None),
        token(1200, 150, 0.0045),
        tool("read_file", None),
        tool("search_web", Some(IO_ERROR)),
        token(1800, 350, 0.008),
        json!({"event": "session", "properties": {
            "action": "end", "session_id": "<session>", "agent_name": "root",
            "duration_ms": "<ms>", "tool_calls": 3, "input_tokens": 3000,
            "output_tokens": 500, "total_tokens": 3500, "cost": 0.0045 + 0.008,
            "error_count": 1, "is_success": false, "error": [IO_ERROR],
        }}),
        json!({"event": "command", "properties": {
            "action": "run", "args": ["--model"], "is_success": true, "duration_ms": "<ms>",
        }}),
    ];
    assert_eq!(parts, expected, "{records:#?}");

    // One session: every session-scoped record carries the same id.
    let ids: std::collections::BTreeSet<&str> = records
        .iter()
        .filter_map(|record| record["properties"]["session_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    // Inline delivery: one request per record, in order.
    let requests = collector.requests();
    assert_eq!(requests.len(), records.len());
    for (request, record) in requests.iter().zip(&records) {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            body,
            json!({ "records": [record], "sent_at": body["sent_at"].as_u64().expect("sent_at") })
        );
    }
}

#[test]
fn fail_exits_1_with_a_message_and_records_the_error_type() {
    let (collector, agent) = past_notice();
    let output = agent.run(&["fail"]);

    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).starts_with("agent: error: the `fail` command always fails"),
        "{output:?}"
    );
    let records = collector.records();
    let parts: Vec<Value> = records
        .iter()
        .map(|r| event_part(r, &user_uuid(&agent)))
        .collect();
    assert_eq!(
        parts,
        [json!({"event": "command", "properties": {
            "action": "fail", "args": [], "is_success": false, "duration_ms": "<ms>",
            "error": "AlwaysFails",
        }})]
    );
}

#[test]
fn args_hold_flag_names_only() {
    let (collector, agent) = past_notice();
    let cases: [(&[&str], &[&str]); 4] = [
        (&["run", "--model=gpt-4o-mini", "hello"], &["--model"]),
        (
            &["--debug", "run", "--model", "claude-sonnet-4", "two words"],
            &["--debug", "--model"],
        ),
        // After `--`, even what looks like a flag is the prompt.
        (
            &["run", "--", "--looks-like-a-flag", "but is the prompt"],
            &[],
        ),
        (&["version", "--debug"], &["--debug"]),
    ];
    for (args, flags) in cases {
        let before = collector.records().len();
        let output = agent.run(args);
        assert!(output.status.success(), "{args:?}: {output:?}");
        let records = collector.records();
        let commands: Vec<&Value> = records[before..]
            .iter()
            .filter(|record| record["event"] == "command")
            .collect();
        assert_eq!(commands.len(), 1, "{args:?}: {records:#?}");
        assert_eq!(commands[0]["properties"]["args"], json!(flags), "{args:?}");
    }
}

#[test]
fn tags_from_the_environment_are_added_and_cannot_override_common_fields() {
    let (collector, agent) = past_notice();
    agent.run_ok(
        &["version"],
        &[("TELEMETRY_TAGS", " team = core ,novalue,version=9.9.9,=x")],
    );
    let records = collector.records();
    assert_eq!(records.len(), 1, "{records:#?}");
    let properties = &records[0]["properties"];
    assert_eq!(properties["team"], "core");
    assert_eq!(properties["version"], AGENT_VERSION);
    assert_eq!(properties.get("novalue"), None);
    assert_eq!(properties.get(""), None);
}
