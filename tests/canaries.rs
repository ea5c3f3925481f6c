//! Canaries: unique marker strings planted in every place private data
//! comes from; none may appear in any request (body, path or header), in
//! the debug output, or in any file the toolkit writes.
//!
//! In process, through the library and the macros: positional arguments
//! and `--flag=value` values given to `track_command`, a tracked tool's
//! parameter (a prompt), an error's message, a panic's message, the `HOME`
//! path, and the user and host name variables.

#[path = "support/canary.rs"]
mod canary;
#[path = "support/reliability.rs"]
mod reliability;

use canary::{files_under, Canaries};
use reliability::{DebugCapture, TempDir};
use std::io;
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
