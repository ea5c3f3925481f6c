//! End to end: the first-run notice, and the opt-out. An opted-out agent
//! opens no connection (the collector counts zero) and writes no file.

use telemetry_test_support::agent::{
    debug_lines, stderr, stdout, Agent, AGENT_VERSION, NOTICE_START,
};
use telemetry_test_support::collector::Collector;

const ANSWER: &str =
    "root (gpt-4o): done in 3 steps, using 1 note(s). (This example calls no model.)\n";

#[test]
fn the_first_run_shows_the_notice_on_stderr_and_sends_nothing() {
    let collector = Collector::start().unwrap();
    let agent = Agent::new(&collector.url());

    let first = agent.run_ok(&["run", "hello"], &[]);
    assert_eq!(stdout(&first), ANSWER, "stdout holds the answer only");
    let notice = stderr(&first);
    assert!(notice.starts_with(NOTICE_START), "{notice}");
    for needle in [
        "TELEMETRY_ENABLED=false",
        "DO_NOT_TRACK=1",
        "Never collected",
    ] {
        assert!(notice.contains(needle), "{needle:?} in {notice}");
    }
    assert_eq!(collector.connections(), 0);
    assert_eq!(collector.requests().len(), 0);
    assert!(agent.config_dir().join("telemetry-notice-shown").is_file());

    // The notice is shown once per config dir; the next run sends.
    agent.wait_for_a_later_run();
    let second = agent.run_ok(&["version"], &[]);
    assert_eq!(stdout(&second), format!("agent {AGENT_VERSION}\n"));
    assert_eq!(stderr(&second), "", "no notice the second time");
    let records = collector.records();
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0]["properties"]["action"], "version");
}

#[test]
fn hide_banner_hides_the_notice_and_that_run_sends() {
    let collector = Collector::start().unwrap();
    let agent = Agent::new(&collector.url());
    let output = agent.run_ok(&["version"], &[("TELEMETRY_HIDE_BANNER", "1")]);
    assert_eq!(stderr(&output), "");
    assert_eq!(collector.records().len(), 1);
    assert!(!agent.config_dir().join("telemetry-notice-shown").exists());
}

/// Runs every command of the agent with `env`, fresh config dirs each time,
/// and checks that nothing reached the collector and nothing was written.
fn assert_off(env: &[(&str, &str)], reason: &str) {
    let collector = Collector::start().unwrap();
    for args in [
        &["version"][..],
        &["run", "--model", "gpt-4o", "hello"],
        &["fail"],
        &["--debug", "run", "hello"],
    ] {
        let agent = Agent::new(&collector.url());
        let output = agent.run_with(args, env);
        let expected_code = if args == ["fail"] { 1 } else { 0 };
        assert_eq!(
            output.status.code(),
            Some(expected_code),
            "{env:?} {args:?}: {output:?}"
        );
        assert!(
            !stderr(&output).contains(NOTICE_START),
            "{env:?} {args:?}: {output:?}"
        );
        assert_eq!(agent.written_paths(), Vec::<std::path::PathBuf>::new());
        if args[0] == "--debug" {
            assert_eq!(debug_lines(&output), [reason], "{env:?}: {output:?}");
        }
    }
    assert_eq!(collector.connections(), 0, "{env:?}");
}

#[test]
fn telemetry_enabled_false_opens_no_connection_and_writes_no_file() {
    for value in ["false", "0", "no", "off", "FALSE", " Off "] {
        assert_off(
            &[("TELEMETRY_ENABLED", value)],
            "telemetry is off: TELEMETRY_ENABLED is false",
        );
    }
}

#[test]
fn do_not_track_opens_no_connection_and_writes_no_file() {
    for value in ["1", "true", "yes", "on", "TRUE"] {
        assert_off(
            &[("DO_NOT_TRACK", value)],
            "telemetry is off: DO_NOT_TRACK is set",
        );
    }
}

#[test]
fn do_not_track_wins_over_telemetry_enabled_true() {
    assert_off(
        &[("DO_NOT_TRACK", "1"), ("TELEMETRY_ENABLED", "true")],
        "telemetry is off: DO_NOT_TRACK is set",
    );
}

#[test]
fn an_unrecognised_telemetry_enabled_is_off_with_one_warning() {
    let value = [("TELEMETRY_ENABLED", "fasle")];
    assert_off(
        &value,
        "telemetry is off: TELEMETRY_ENABLED has an unrecognised value (use true, false or log)",
    );
    let agent = Agent::without_endpoint();
    let output = agent.run_with(&["version"], &value);
    assert_eq!(
        stderr(&output),
        "warning: TELEMETRY_ENABLED has an unrecognised value; telemetry is off (use true, false or log)\n"
    );
}

#[test]
fn without_an_endpoint_nothing_is_shown_or_written() {
    let agent = Agent::without_endpoint();
    let output = agent.run_ok(&["run", "hello"], &[]);
    assert_eq!(stdout(&output), ANSWER);
    assert!(!stderr(&output).contains(NOTICE_START), "{output:?}");
    assert_eq!(agent.written_paths(), Vec::<std::path::PathBuf>::new());

    let output = agent.run(&["--debug", "version"]);
    assert_eq!(
        debug_lines(&output),
        ["telemetry is off: no endpoint and no sink to send to"]
    );
}
