//! End to end: the prompt never leaves the agent, neither in a request nor in
//! its `--debug` output, even though a tool's error message holds it; and
//! debug mode prints exactly the records that are sent, nothing more.

use serde_json::Value;
use telemetry_test_support::agent::{debug_lines, past_notice, stderr, Agent};
use telemetry_test_support::collector::Collector;

/// Every word is distinctive, so that finding any one of them anywhere means
/// part of the prompt leaked.
const PROMPT: &str = "zq7xk-secret falcon-plan /home/alice/notes.txt";

fn prompt_pieces() -> Vec<&'static str> {
    let mut pieces = vec![PROMPT];
    pieces.extend(PROMPT.split_whitespace());
    pieces
}

fn assert_no_prompt_in(text: &str, what: &str) {
    for piece in prompt_pieces() {
        assert!(!text.contains(piece), "{piece:?} found in {what}: {text}");
    }
}

#[test]
fn the_prompt_is_in_no_request_and_no_debug_line() {
    let collector = Collector::start().unwrap();
    let agent = Agent::new(&collector.url());
    let args = ["--debug", "run", "--model", "gpt-4o", PROMPT];

    // First run: held back, but still printed in debug mode.
    let first = agent.run_ok(&args, &[]);
    let first_debug = debug_lines(&first);
    assert!(!first_debug.is_empty(), "{first:?}");
    assert_no_prompt_in(&first_debug.join("\n"), "the first run's debug output");
    assert_eq!(collector.requests().len(), 0);

    // Second run: sent.
    agent.wait_for_a_later_run();
    let second = agent.run_ok(&args, &[]);
    // The agent itself shows the tool's error, prompt included, to its
    // user: that is the message the records must not carry.
    assert!(stderr(&second).contains(PROMPT), "{second:?}");
    let debug = debug_lines(&second);
    assert_no_prompt_in(&debug.join("\n"), "the debug output");

    let requests = collector.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_no_prompt_in(&String::from_utf8_lossy(&request.body), "a request body");
        for (name, value) in &request.headers {
            assert_no_prompt_in(value, name);
        }
    }
    let records = collector.records();
    assert!(
        records.iter().any(|record| record["event"] == "tool"
            && record["properties"]["tool_name"] == "search_web"
            && record["properties"]["is_success"] == false),
        "the failing tool was recorded: {records:#?}"
    );
}

#[test]
fn debug_prints_exactly_the_records_sent_and_sends_nothing_extra() {
    let (collector, agent) = past_notice();
    let output = agent.run_ok(&["--debug", "run", "hello"], &[]);

    let printed: Vec<Value> = debug_lines(&output)
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not a record: {line}")))
        .collect();
    let records = collector.records();
    assert!(!records.is_empty());
    assert_eq!(printed, records);
    assert_eq!(collector.requests().len(), records.len());
}

#[test]
fn any_model_is_accepted_and_an_unknown_one_is_recorded_as_other() {
    // Users configure new models all the time: the agent takes any name, and
    // records only the names it knows (`.known_models`), others as `other`.
    let (collector, agent) = past_notice();
    for args in [
        &["run", "--model", PROMPT, "hello"][..],
        &["run", &format!("--model={PROMPT}"), "hello"],
        &["run", "--model", "acme-private-finetune-v7", "hello"],
    ] {
        let output = agent.run(args);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
    }
    let tokens: Vec<Value> = collector
        .records()
        .into_iter()
        .filter(|record| record["event"] == "token")
        .collect();
    assert_eq!(tokens.len(), 6, "two model calls per run");
    for token in &tokens {
        assert_eq!(token["properties"]["model_name"], "other", "{token}");
    }
    let everything = serde_json::to_string(&collector.records()).unwrap();
    assert_no_prompt_in(&everything, "the records");
    assert!(!everything.contains("acme-private"), "{everything}");

    let output = agent.run(&["run", "--model", "claude-sonnet-4", "hello"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let known = collector.records();
    let last_token = known.iter().rev().find(|r| r["event"] == "token").unwrap();
    assert_eq!(last_token["properties"]["model_name"], "claude-sonnet-4");
}
