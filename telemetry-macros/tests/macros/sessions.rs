//! A tracked tool belongs to the session that is current when it runs: its
//! event carries the session's id and agent, and the session's end event
//! counts it. Commands are not part of sessions.

use crate::common::{calls, client, session_ends};
use std::panic;
use telemetry_core::{tracked_command, tracked_tool};

#[derive(Debug)]
struct NotFound;

#[tracked_tool(name = "read_file")]
fn read_file(path: &str) -> Result<usize, NotFound> {
    if path.is_empty() {
        Err(NotFound)
    } else {
        Ok(path.len())
    }
}

#[tracked_tool]
fn crash() {
    panic!("crash");
}

#[tracked_command]
fn run() {}

#[test]
fn a_tool_in_a_session_carries_its_id_and_agent_and_is_counted() {
    let (telemetry, sink) = client();
    let session = telemetry.start_session("planner");
    let id = session.id().to_owned();
    session.scope(|| {
        assert_eq!(read_file("a.txt").unwrap(), 5);
        assert!(read_file("").is_err());
        assert!(panic::catch_unwind(crash).is_err());
        run();
    });
    session.end();

    let calls = calls(&sink);
    assert_eq!(calls.len(), 4);
    for tool in &calls[..3] {
        assert_eq!(tool.kind, "tool");
        assert_eq!(
            (tool.session_id.as_str(), tool.agent.as_str()),
            (id.as_str(), "planner")
        );
    }
    assert_eq!(calls[3].kind, "command");

    let ends = session_ends(&sink);
    assert_eq!(ends.len(), 1);
    let end = &ends[0];
    assert_eq!(&*end.session_id, id);
    assert_eq!(end.tool_calls, 3);
    assert_eq!(end.error_count, 2);
    let errors: Vec<&str> = end.errors.iter().map(|kind| &**kind).collect();
    assert_eq!(errors, [std::any::type_name::<NotFound>(), "panic"]);
    assert!(!end.is_success());
}

#[test]
fn a_tool_outside_a_session_has_an_empty_id_and_agent() {
    let (telemetry, sink) = client();
    telemetry.scope(|| read_file("a")).unwrap();
    let call = &calls(&sink)[0];
    assert_eq!((call.session_id.as_str(), call.agent.as_str()), ("", ""));
}

#[test]
fn a_tool_counts_toward_the_innermost_session_only() {
    let (telemetry, sink) = client();
    let parent = telemetry.start_session("parent");
    let child = telemetry.start_session("child");
    parent.scope(|| {
        read_file("a").unwrap();
        child.scope(|| {
            read_file("b").unwrap();
            read_file("").unwrap_err();
        });
    });
    let child_id = child.id().to_owned();
    child.end();
    parent.end();

    let calls = calls(&sink);
    assert_eq!(calls[0].agent, "parent");
    assert_eq!(calls[1].session_id, child_id);
    assert_eq!(calls[2].agent, "child");
    let ends = session_ends(&sink);
    assert_eq!((ends[0].tool_calls, ends[0].error_count), (2, 1)); // child
    assert_eq!((ends[1].tool_calls, ends[1].error_count), (1, 0)); // parent
}
