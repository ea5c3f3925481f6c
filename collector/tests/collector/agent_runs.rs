//! The example agent's inline, background and OTLP runs, as a process
//! against the collector: they appear in `commands`, `tools` and `errors`
//! with their error kinds.

use crate::harness::Collector;
use serde_json::{json, Value};
use telemetry_test_support::agent::Agent;

fn find<'a>(list: &'a Value, key: &str, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|entry| entry[key] == name)
        .unwrap_or_else(|| panic!("{name} in {list}"))
}

#[test]
fn inline_background_and_otlp_runs_appear_in_commands_and_tools() {
    let collector = Collector::start(&[]);
    let events = format!("http://{}/v1/events", collector.addr);
    let base = format!("http://{}", collector.addr);
    for (endpoint, mode) in [
        (&events, &[][..]),
        (&events, &["--delivery", "background"][..]),
        (&base, &["--export", "otlp"][..]),
    ] {
        let agent = Agent::after_first_run(endpoint);
        for command in [
            &["run", "--model", "gpt-4o-mini", "hello"][..],
            &["fail"][..],
        ] {
            let args: Vec<&str> = mode.iter().chain(command).copied().collect();
            let output = agent.run(&args);
            assert!(
                output.status.success() || command == ["fail"],
                "{args:?}: {output:?}"
            );
        }
    }
    let commands = collector.view_ok("commands", "app=agent");
    assert_eq!(
        find(&commands["commands"], "name", "run")["calls"],
        3,
        "{commands}"
    );
    assert_eq!(find(&commands["commands"], "name", "run")["failures"], 0);
    let fail = find(&commands["commands"], "name", "fail");
    assert_eq!((&fail["calls"], &fail["failures"]), (&json!(3), &json!(3)));
    let tools = collector.view_ok("tools", "app=agent");
    let read = find(&tools["tools"], "name", "read_file");
    assert_eq!((&read["calls"], &read["failures"]), (&json!(3), &json!(0)));
    let search = find(&tools["tools"], "name", "search_web");
    assert_eq!(
        (&search["calls"], &search["failures"]),
        (&json!(3), &json!(3))
    );
    let kinds = search["error_kinds"].as_object().unwrap();
    assert_eq!(kinds.len(), 1, "{search}");
    let (kind, count) = kinds.iter().next().unwrap();
    assert_eq!(count, 3);
    let errors = collector.view_ok("errors", "app=agent");
    let list = errors["errors"].as_array().unwrap();
    assert!(list.contains(&json!({"event":"command","name":"fail","kind":"AlwaysFails","count":3,
        "installs":3,"first_version":list[0]["first_version"],"last_version":list[0]["last_version"]})), "{errors}");
    assert!(
        list.iter().any(|e| e["event"] == "tool"
            && e["name"] == "search_web"
            && &e["kind"] == kind
            && e["count"] == 3),
        "{errors}"
    );
    let tokens = collector.view_ok("tokens", "app=agent");
    assert_eq!(
        find(&tokens["models"], "model", "gpt-4o-mini")["calls"],
        6,
        "{tokens}"
    );
    let sessions = collector.view_ok("sessions", "app=agent");
    assert_eq!(sessions["sessions"]["count"], 3, "{sessions}");
    let daily = collector.view_ok("daily", "app=agent");
    let today = daily["days"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&today["active_installs"], &today["new_installs"]),
        (&json!(3), &json!(3)),
        "{daily}"
    );
}
