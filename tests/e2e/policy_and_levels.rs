//! End to end, as separate processes: the CI policy (two CI jobs on fresh
//! runners send all their records, each under its own ephemeral id, and
//! write nothing), the opt-out in CI, the `errors` level
//! (`AGENT_TELEMETRY_ENABLED=errors`, `agent telemetry enable
//! --errors-only`), machine policy files, and a raised notice version.
//!
//! The machine policy's paths are fixed (/etc/...); the policy tests run
//! `managed_agent` (`examples/managed_agent.rs`), the app `agent` built on
//! the public API with the builder's test setter `policy_dir`.

use serde_json::Value;
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use telemetry_test_support::agent::{
    example_binary, past_notice, stderr, stdout, Agent, NOTICE_START,
};
use telemetry_test_support::collector::Collector;
use telemetry_test_support::TempDir;

/// `(event, tool name or action)` of each record.
fn shapes(records: &[Value]) -> Vec<(String, String)> {
    records
        .iter()
        .map(|record| {
            let properties = &record["properties"];
            let name = properties["tool_name"]
                .as_str()
                .or(properties["action"].as_str())
                .unwrap_or_default();
            (
                record["event"].as_str().unwrap_or_default().to_owned(),
                name.to_owned(),
            )
        })
        .collect()
}

/// What an `errors` run of `agent run` sends: its failing tool only.
fn failing_tool_only() -> Vec<(String, String)> {
    vec![("tool".to_owned(), "search_web".to_owned())]
}

/// The lines of stderr about telemetry.
fn telemetry_lines(output: &Output) -> Vec<String> {
    stderr(output)
        .lines()
        .filter(|line| line.contains("usage data") || line.contains("telemetry"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn two_ci_jobs_on_fresh_runners_send_all_their_records_with_their_own_ephemeral_ids() {
    let collector = Collector::start().unwrap();
    let ci = [("CI", "true"), ("GITHUB_ACTIONS", "true")];
    let mut ids = HashSet::new();
    for _ in 0..2 {
        let agent = Agent::new(&collector.url());
        let before = collector.records().len();
        let output = agent.run_ok(&["run", "hello"], &ci);
        let records = collector.records()[before..].to_vec();
        assert_eq!(records.len(), 8, "all of the run, in the run: {records:#?}");
        for record in &records {
            assert_eq!(record["properties"]["ephemeral_id"], true, "{record}");
            assert_eq!(record["properties"]["ci"], true, "{record}");
            ids.insert(
                record["properties"]["user_uuid"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        assert_eq!(agent.written_paths(), Vec::<PathBuf>::new());
        let lines = telemetry_lines(&output);
        assert!(lines.len() <= 1, "{lines:#?}");
        assert!(!stderr(&output).contains(NOTICE_START), "no notice block");
        assert!(
            lines
                .iter()
                .all(|line| line.contains("AGENT_TELEMETRY_ENABLED=false")),
            "{lines:#?}"
        );
        assert_eq!(agent.status_json(&ci)["ci_policy"], "anonymous");
    }
    assert_eq!(ids.len(), 2, "one id per job, never the same");
}

#[test]
fn ci_with_the_apps_variable_false_sends_nothing() {
    let collector = Collector::start().unwrap();
    let agent = Agent::new(&collector.url());
    let output = agent.run_ok(
        &["run", "hello"],
        &[("CI", "true"), ("AGENT_TELEMETRY_ENABLED", "false")],
    );
    assert_eq!(collector.connections(), 0);
    assert_eq!(agent.written_paths(), Vec::<PathBuf>::new());
    assert_eq!(telemetry_lines(&output), Vec::<String>::new());
}

#[test]
fn agent_telemetry_enabled_errors_sends_only_the_failing_tool() {
    let (collector, agent) = past_notice();
    let before = collector.records().len();
    agent.run_ok(&["run", "hello"], &[("AGENT_TELEMETRY_ENABLED", "errors")]);
    assert_eq!(shapes(&collector.records()[before..]), failing_tool_only());
    let status = agent.status_json(&[("AGENT_TELEMETRY_ENABLED", "errors")]);
    assert_eq!(status["level"], "errors");
    assert_eq!(status["value"], "errors");
}

#[test]
fn enable_errors_only_is_remembered_and_sends_only_failures() {
    let (collector, agent) = past_notice();
    agent.run_ok(&["telemetry", "enable", "--errors-only"], &[]);
    let before = collector.records().len();
    agent.run_ok(&["run", "hello"], &[]);
    assert_eq!(shapes(&collector.records()[before..]), failing_tool_only());
    // `fail` fails: its command is sent.
    let before = collector.records().len();
    assert!(!agent.run(&["fail"]).status.success());
    assert_eq!(
        shapes(&collector.records()[before..]),
        [("command".to_owned(), "fail".to_owned())]
    );
    let status = agent.run(&["telemetry", "status"]);
    assert!(stdout(&status).contains("Level:      errors"), "{status:?}");
}

/// A policy dir with `text` as the machine-wide policy, mode `mode`.
fn policy_dir(root: &TempDir, text: &str, mode: u32) -> (PathBuf, PathBuf) {
    let dir = root.join("policy");
    fs::create_dir_all(&dir).unwrap();
    let file = dir.join(telemetry_core::POLICY_FILE);
    fs::write(&file, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&file, fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = mode;
    (dir, file)
}

fn managed(agent: &Agent, policy: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let binary = example_binary("managed_agent");
    let policy = policy.to_str().unwrap();
    let mut all = vec!["--policy-dir", policy];
    all.extend_from_slice(args);
    agent.run_binary_with(&binary, &all, env)
}

fn managed_status(agent: &Agent, policy: &Path, env: &[(&str, &str)]) -> Value {
    let output = managed(agent, policy, &["telemetry", "status", "--json"], env);
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_policy_level_off_beats_telemetry_enabled_true_and_telemetry_enable() {
    let (collector, agent) = past_notice();
    let root = TempDir::new("e2e-policy-off");
    let (dir, file) = policy_dir(&root, "level = off\n", 0o644);
    assert!(managed(&agent, &dir, &["telemetry", "enable"], &[])
        .status
        .success());
    let before = collector.records().len();
    let on = [("TELEMETRY_ENABLED", "true")];
    let output = managed(&agent, &dir, &["run", "hello"], &on);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(collector.records().len(), before);
    let status = managed_status(&agent, &dir, &on);
    assert_eq!(status["enabled"], false);
    assert_eq!(status["decided_by"], "machine_policy");
    assert_eq!(status["policy_file"], file.to_str().unwrap());
}

#[test]
fn a_policy_level_errors_leaves_only_the_failing_tool_of_run() {
    let (collector, agent) = past_notice();
    let root = TempDir::new("e2e-policy-errors");
    let (dir, _) = policy_dir(&root, "# failures only\nlevel = errors\n", 0o644);
    let before = collector.records().len();
    let output = managed(
        &agent,
        &dir,
        &["run", "hello"],
        &[("TELEMETRY_ENABLED", "true")],
    );
    assert!(output.status.success(), "{output:?}");
    assert_eq!(shapes(&collector.records()[before..]), failing_tool_only());
    let status = managed_status(&agent, &dir, &[]);
    assert_eq!(status["level"], "errors");
    assert_eq!(status["decided_by"], "machine_policy");
}

#[test]
fn a_malformed_or_world_writable_policy_turns_telemetry_off_and_status_names_the_file() {
    let (collector, agent) = past_notice();
    for (name, text, mode) in [
        ("malformed", "level errors\n", 0o644),
        ("unknown", "level = sometimes\n", 0o644),
        ("world-writable", "level = all\n", 0o666),
    ] {
        let root = TempDir::new(&format!("e2e-policy-{name}"));
        let (dir, file) = policy_dir(&root, text, mode);
        let before = collector.records().len();
        let output = managed(&agent, &dir, &["run", "hello"], &[]);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(collector.records().len(), before, "{name}");
        let status = managed_status(&agent, &dir, &[]);
        assert_eq!(status["enabled"], false, "{name}");
        assert_eq!(status["decided_by"], "machine_policy", "{name}");
        assert_eq!(status["policy_file"], file.to_str().unwrap(), "{name}");
        let text = managed(&agent, &dir, &["telemetry", "status"], &[]);
        assert!(stdout(&text).contains(file.to_str().unwrap()), "{text:?}");
    }
}

#[test]
fn raising_the_notice_version_shows_the_notice_once_more() {
    let (collector, agent) = past_notice();
    let root = TempDir::new("e2e-notice-version");
    let (dir, _) = policy_dir(&root, "# no restriction\n", 0o644);
    let raised = [
        "--notice-version",
        "2",
        "--notice-changes",
        "tool names are now collected",
    ];
    let run = |extra: &[&str]| {
        let mut args = extra.to_vec();
        args.extend(["run", "hello"]);
        managed(&agent, &dir, &args, &[])
    };
    let before = collector.records().len();
    let output = run(&raised);
    let text = stderr(&output);
    assert!(text.starts_with(NOTICE_START), "{text}");
    assert!(text.contains("tool names are now collected"), "{text}");
    assert_eq!(collector.records().len(), before, "held, as a first run");
    assert_eq!(managed_status(&agent, &dir, &[])["notice_version_seen"], 2);
    agent.wait_for_a_later_run();
    let output = run(&raised);
    assert_eq!(stderr(&output), "", "once only");
    assert!(collector.records().len() > before, "the next run sends");
}
