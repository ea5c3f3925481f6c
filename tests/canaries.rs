//! Canaries: unique marker strings planted in every place private data
//! comes from; none may appear in any request (body, path or header), in
//! the debug output, or in any file the toolkit writes.
//!
//! In process, through the library and the macros: positional arguments
//! and `--flag=value` values given to `track_command`, a tracked tool's
//! parameter (a prompt), an error's message, a panic's message, the `HOME`
//! path, and the user and host name variables.
//!
//! As a real process: the `agent` example with canaries in a positional
//! argument, a `--flag=value` value, a short flag's attached value, the
//! prompt (which its failing tool puts in its error message), the current
//! directory's name, the `HOME` path, and the user and host variables.

#[path = "support/canary.rs"]
mod canary;
#[path = "support/reliability.rs"]
mod reliability;
mod support;

use canary::{files_under, Canaries};
use reliability::{DebugCapture, TempDir};
use std::io;
use support::{run_agent_in, stderr, wait_until_older_than_any_later_start};
use telemetry_collector::Collector;
use telemetry_core::{tracked_command, tracked_tool, Telemetry};

#[tracked_tool]
fn search_web(query: &str) -> io::Result<Vec<String>> {
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!("no results for {query:?}"),
    ))
}

#[tracked_tool]
fn crash(message: &str) {
    panic!("{message}");
}

#[tracked_command]
fn run(prompt: &str) -> Result<(), Box<dyn std::error::Error>> {
    search_web(prompt)?;
    Ok(())
}

#[test]
fn no_canary_leaves_the_library() {
    let mut canaries = Canaries::new();
    let positional = canaries.plant("positional");
    let flag_value = canaries.plant("flag-value");
    let prompt = canaries.plant("prompt");
    let panic_message = canaries.plant("panic");
    let home_name = canaries.plant("home");
    let user = canaries.plant("user");
    let host = canaries.plant("host");

    let root = TempDir::new("canaries");
    let home = root.join(format!("home-{home_name}"));
    let collector = Collector::start().unwrap();
    let debug = DebugCapture::new();
    let telemetry = Telemetry::builder("canary-test", "1.0.0")
        .endpoint(collector.url())
        .debug(true)
        .debug_writer(debug.clone())
        .notice_writer(debug.clone())
        .env_vars([
            ("HOME", home.as_os_str().to_owned()),
            ("USER", user.clone().into()),
            ("LOGNAME", user.clone().into()),
            ("HOSTNAME", host.clone().into()),
            ("TELEMETRY_HIDE_BANNER", "1".into()),
        ])
        .build();
    assert!(telemetry.is_enabled());

    telemetry.scope(|| {
        telemetry.track_command(
            "run",
            [
                positional.clone(),
                format!("--flag={flag_value}"),
                format!("-x{flag_value}"),
                "--".into(),
                format!("--after={flag_value}"),
            ],
        );
        let session = telemetry.start_session("root");
        session.scope(|| {
            assert!(run(&prompt).is_err());
            let panicked = std::panic::catch_unwind(|| crash(&panic_message));
            assert!(panicked.is_err());
        });
        session.end();
    });

    let records = collector.records();
    let kinds: Vec<&str> = records.iter().filter_map(|r| r["event"].as_str()).collect();
    assert_eq!(
        kinds,
        ["command", "session", "tool", "command", "tool", "session"]
    );
    for request in collector.requests() {
        canaries.assert_absent("a request body", &request.body);
        canaries.assert_absent("a request path", request.path.as_bytes());
        for (name, value) in &request.headers {
            canaries.assert_absent(&format!("the {name} header"), value.as_bytes());
        }
    }
    canaries.assert_absent("the debug output", debug.text().as_bytes());
    let written = files_under(root.path());
    assert!(!written.is_empty(), "the id was kept under HOME");
    for (path, bytes) in &written {
        let relative = path.strip_prefix(&home).unwrap();
        canaries.assert_absent("a file's name", relative.as_os_str().as_encoded_bytes());
        canaries.assert_absent(&format!("{relative:?}"), bytes);
    }
}

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
    wait_until_older_than_any_later_start(&home.join(".config/agent/telemetry-notice-shown"));
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
