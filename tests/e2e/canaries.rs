//! Canaries: unique marker strings planted in every place private data
//! comes from; none may appear in any request (body, path or header), in
//! the debug output, or in any file the toolkit writes. (The same through
//! the library in process: `telemetry-core`'s `privacy` tests.)
//!
//! Here: the `agent` example as a process.

use telemetry_core::NOTICE_MARKER_FILE;
use telemetry_test_support::agent::{run_agent_in, stderr};
use telemetry_test_support::canary::Canaries;
use telemetry_test_support::collector::Collector;
use telemetry_test_support::fs::files_under;
use telemetry_test_support::marker::wait_until_older_than_any_later_start;
use telemetry_test_support::TempDir;

/// The `agent` example as a real process: canaries in a positional argument,
/// a `--flag=value` value, a short flag's attached value, the prompt (which
/// its failing tool puts in its error message), the current directory's
/// name, the `HOME` path, and the user and host variables.
#[test]
fn no_canary_leaves_the_agent() {
    let mut canaries = Canaries::new();
    let positional = canaries.plant("positional");
    let flag_value = canaries.plant("flag-value");
    let short_value = canaries.plant("short-value");
    let prompt = canaries.plant("prompt");
    let cwd_name = canaries.plant("cwd");
    let home_name = canaries.plant("home");
    let user = canaries.plant("user");
    let host = canaries.plant("host");

    let root = TempDir::new("agent-canaries");
    let home = root.join(format!("home-{home_name}"));
    let cwd = root.join(format!("cwd-{cwd_name}"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    let collector = Collector::start().unwrap();
    let url = collector.url();
    let (home_text, cwd_text) = (home.to_str().unwrap(), cwd.to_str().unwrap());
    let env = [
        ("TELEMETRY_ENDPOINT", url.as_str()),
        ("HOME", home_text),
        ("PWD", cwd_text),
        ("USER", user.as_str()),
        ("LOGNAME", user.as_str()),
        ("HOSTNAME", host.as_str()),
    ];
    let flag = format!("--note={flag_value}");
    let short = format!("-n{short_value}");
    // Once the prompt has begun, the agent takes every argument as prompt.
    let args = [
        "--debug",
        "run",
        "--model=gpt-4o",
        positional.as_str(),
        flag.as_str(),
        short.as_str(),
        prompt.as_str(),
    ];

    // The first run shows the notice and sends nothing; the second sends.
    let first = run_agent_in(&cwd, &args, &env);
    // A later run: the marker predates it.
    wait_until_older_than_any_later_start(
        &home.join(".config").join("agent").join(NOTICE_MARKER_FILE),
    );
    let runs = [first, run_agent_in(&cwd, &args, &env)];
    for run in &runs {
        assert!(run.status.success(), "{run:?}");
    }
    let records = collector.records();
    assert!(
        records
            .iter()
            .any(|r| r["properties"]["tool_name"] == "search_web"
                && r["properties"]["is_success"] == false),
        "the failing tool was recorded: {records:#?}"
    );
    // The tool's error message did hold the prompt: the agent shows it to
    // its user (that line is the agent's own, not the toolkit's).
    assert!(stderr(&runs[1]).contains(&prompt), "{:?}", runs[1]);

    for request in collector.requests() {
        canaries.assert_absent("a request body", &request.body);
        canaries.assert_absent("a request path", request.path.as_bytes());
        for (name, value) in &request.headers {
            canaries.assert_absent(&format!("the {name} header"), value.as_bytes());
        }
    }
    for (index, run) in runs.iter().enumerate() {
        // All of stderr but the agent's own messages: the notice and the
        // debug lines.
        let toolkit: String = stderr(run)
            .lines()
            .filter(|line| !line.starts_with("agent:"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(toolkit.contains("[telemetry] {"), "run {index}: {run:?}");
        canaries.assert_absent(&format!("run {index}'s stderr"), toolkit.as_bytes());
    }

    let written = files_under(root.path());
    assert!(
        written.iter().any(|(path, _)| path.ends_with("user-uuid")),
        "{written:?}"
    );
    for (path, bytes) in &written {
        assert!(
            !path.starts_with(&cwd),
            "a file in the working dir: {path:?}"
        );
        let relative = path.strip_prefix(&home).unwrap_or(path);
        canaries.assert_absent("a file's name", relative.as_os_str().as_encoded_bytes());
        canaries.assert_absent(&format!("{relative:?}"), bytes);
    }
}
