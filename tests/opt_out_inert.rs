//! When telemetry is off, by any opt-out path, it does nothing at all: the
//! collector sees no connection, no file or directory is created, no thread
//! is started, and no enabled client ever exists in the process.
//!
//! This binary holds this one test only, so that the thread count it
//! compares is the process's own and not that of concurrent tests.

#[path = "support/reliability.rs"]
mod reliability;

use reliability::{thread_ids, threads, tree, DebugCapture, TempDir};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::time::Duration;
use telemetry_collector::Collector;
use telemetry_core::{Outcome, Telemetry, WithTelemetry};

/// Records every kind of event, in every way there is, many times.
fn use_everything(telemetry: &Telemetry) {
    for i in 0..50 {
        telemetry.track_command("run", ["--model=gpt-4", "prompt"]);
        telemetry.record_command("run", ["--x"], Duration::from_millis(i), Outcome::Success);
        telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::failure("E"));
        telemetry.record_token_usage("m", 10, 20, 0.5);
        let session = telemetry.start_session("agent");
        session.scope(|| {
            telemetry_core::record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
            telemetry_core::record_token_usage("m", 1, 1, 0.1);
            telemetry_core::track_command("c", ["--y"]);
            let nested = telemetry_core::start_session("child");
            nested.record_tool_call("t", Duration::ZERO, Outcome::Success);
        });
        session.record_error("E");
        session.end();
        telemetry.scope(|| telemetry_core::track_command("scoped", Vec::<String>::new()));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let session = telemetry.start_session("async");
    runtime.block_on(
        async {
            telemetry_core::record_token_usage("m", 1, 1, 0.1);
        }
        .with_session(&session),
    );
    runtime.block_on(
        async { telemetry_core::track_command("async", Vec::<String>::new()) }
            .with_telemetry(telemetry.clone()),
    );
    drop(runtime);
    session.end();
}

#[test]
fn every_opt_out_path_opens_no_socket_writes_no_file_starts_no_thread() {
    let collector = Collector::start().unwrap();
    let root = TempDir::new("inert");
    let threads_before = thread_ids();

    let non_utf8 = OsString::from_vec(vec![b'1', 0xff]);
    // What is off, its environment, and its endpoint (`None`: the collector's;
    // empty: none at all).
    type OptOutPath = (String, Vec<(&'static str, OsString)>, Option<String>);
    let mut paths: Vec<OptOutPath> = Vec::new();
    for value in ["1", "true", "YES", " on ", "please", "2"] {
        paths.push((
            format!("DO_NOT_TRACK={value}"),
            vec![("DO_NOT_TRACK", value.into())],
            None,
        ));
    }
    paths.push((
        "DO_NOT_TRACK=<not UTF-8>".into(),
        vec![("DO_NOT_TRACK", non_utf8.clone())],
        None,
    ));
    for value in ["false", "0", "No", " OFF ", "fasle", "disabled"] {
        paths.push((
            format!("TELEMETRY_ENABLED={value}"),
            vec![("TELEMETRY_ENABLED", value.into())],
            None,
        ));
    }
    paths.push((
        "TELEMETRY_ENABLED=<not UTF-8>".into(),
        vec![("TELEMETRY_ENABLED", non_utf8.clone())],
        None,
    ));
    // DO_NOT_TRACK wins over an explicit yes.
    paths.push((
        "DO_NOT_TRACK=1 TELEMETRY_ENABLED=true".into(),
        vec![
            ("DO_NOT_TRACK", "1".into()),
            ("TELEMETRY_ENABLED", "true".into()),
        ],
        None,
    ));
    paths.push(("no endpoint".into(), vec![], Some(String::new())));
    for endpoint in ["not a url", "ftp://x", "http://"] {
        paths.push((
            format!("endpoint {endpoint:?}"),
            vec![],
            Some(endpoint.into()),
        ));
        paths.push((
            format!("TELEMETRY_ENDPOINT={endpoint:?}"),
            vec![("TELEMETRY_ENDPOINT", endpoint.into())],
            None,
        ));
    }

    for (index, (path, env, endpoint)) in paths.into_iter().enumerate() {
        let config_dir = root.join(format!("config-{index}"));
        let debug = DebugCapture::new();
        let notice = DebugCapture::new();
        let mut builder = Telemetry::builder("inert-test", "1.0.0")
            .config_dir(&config_dir)
            .debug(true)
            .debug_writer(debug.clone())
            .notice_writer(notice.clone())
            .env_vars(env);
        match endpoint {
            Some(endpoint) if endpoint.is_empty() => {}
            Some(endpoint) => builder = builder.endpoint(endpoint),
            None => builder = builder.endpoint(collector.url()),
        }
        let telemetry = builder.build();
        assert!(!telemetry.is_enabled(), "{path}");
        telemetry_core::set_global(telemetry.clone());
        use_everything(&telemetry);

        assert!(
            debug.text().contains("telemetry is off"),
            "{path}: {}",
            debug.text()
        );
        assert_eq!(debug.count("[telemetry] {"), 0, "{path}: a record was made");
        assert!(
            !notice.text().contains("collects"),
            "{path}: the notice was shown"
        );
        assert!(!config_dir.exists(), "{path}: {:?}", tree(&config_dir));
    }
    let disabled = Telemetry::disabled();
    telemetry_core::set_global(disabled.clone());
    use_everything(&disabled);

    assert_eq!(collector.connections(), 0);
    assert_eq!(tree(root.path()), Vec::<std::path::PathBuf>::new());
    assert_eq!(
        thread_ids(),
        threads_before,
        "a thread was started: {:?}",
        threads()
    );
    assert!(!threads().iter().any(|(_, name)| name.contains("telemetry")));
    // No enabled client was ever built: every tracked call is one load.
    assert!(!telemetry_core::__private::active());
}
