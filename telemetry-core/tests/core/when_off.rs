//! When telemetry is off, by any opt-out path or for want of an endpoint:
//! the collector sees no connection, no file or directory is created, no
//! thread is started, no record is made, the notice is not shown, and no
//! enabled client ever exists in the process (the macros' one-load fast
//! path stays closed).
//!
//! The tests compare the process's threads and its process-wide switch, so
//! each runs alone in a process of its own.

use crate::common::scene;
use std::ffi::OsString;
use std::future::Future;
use std::os::unix::ffi::OsStringExt;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use telemetry_core::{Outcome, Telemetry, WithTelemetry};
use telemetry_test_support::fs::tree;
use telemetry_test_support::process::run_alone;
use telemetry_test_support::threads::{thread_ids, threads};
use telemetry_test_support::MemoryWriter;

/// Polls a future that needs no runtime to completion.
fn poll_ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Every way of recording once, on the client and through the context,
/// with futures polled by hand.
fn record_everything(telemetry: &Telemetry) {
    telemetry.track_command("run", ["--model=x", "prompt"]);
    telemetry.record_command("run", ["-v"], Duration::ZERO, Outcome::failure("E"));
    telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    telemetry.record_token_usage("m", 1, 1, 0.5);
    let session = telemetry.start_session("agent");
    session.record_tool_call("t", Duration::ZERO, Outcome::Success);
    session.record_token_usage("m", 1, 1, 0.5);
    session.record_error("E");
    session.scope(|| {
        telemetry_core::record_token_usage("m", 1, 1, 0.5);
        telemetry_core::record_tool_call(
            "t",
            session.id(),
            "agent",
            Duration::ZERO,
            Outcome::Success,
        );
    });
    telemetry.scope(|| {
        telemetry_core::track_command("run", Vec::<String>::new());
        telemetry_core::start_session("child").end();
    });
    poll_ready(async { telemetry_core::record_token_usage("m", 1, 1, 0.5) }.with_session(&session));
    poll_ready(
        async { telemetry_core::track_command("run", Vec::<String>::new()) }
            .with_telemetry(telemetry.clone()),
    );
    session.end();
}

/// Records every kind of event, in every way there is, many times, and in
/// a tokio runtime.
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

/// What is off, its environment, and its endpoint (`None`: the
/// collector's; empty: none at all).
type OptOutPath = (String, Vec<(&'static str, OsString)>, Option<String>);

/// Every opt-out variable and value that turns telemetry off (recognised,
/// unrecognised, not UTF-8), and `DO_NOT_TRACK` over an explicit yes.
fn opt_out_paths() -> Vec<OptOutPath> {
    let non_utf8 = OsString::from_vec(vec![b'1', 0xff]);
    let mut paths: Vec<OptOutPath> = Vec::new();
    let off_values = [
        ("DO_NOT_TRACK", ["1", "true", "YES", " on ", "please", "2"]),
        (
            "TELEMETRY_ENABLED",
            ["false", "0", "No", " OFF ", "fasle", "disabled"],
        ),
    ];
    for (variable, values) in off_values {
        let values = values.map(|value| (value.to_owned(), OsString::from(value)));
        let not_utf8 = ("<not UTF-8>".to_owned(), non_utf8.clone());
        for (shown, value) in values.into_iter().chain([not_utf8]) {
            paths.push((format!("{variable}={shown}"), vec![(variable, value)], None));
        }
    }
    paths.push((
        "DO_NOT_TRACK=1 TELEMETRY_ENABLED=true".into(),
        vec![
            ("DO_NOT_TRACK", "1".into()),
            ("TELEMETRY_ENABLED", "true".into()),
        ],
        None,
    ));
    paths
}

/// Every way to have nothing to send to: no endpoint, and bad endpoints
/// from the builder and from the environment.
fn endpoint_paths() -> Vec<OptOutPath> {
    let mut paths: Vec<OptOutPath> = Vec::new();
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
    paths
}

#[test]
fn when_an_opt_out_variable_says_off_no_file_no_socket_no_thread_no_record() {
    run_alone(
        "when_off::when_an_opt_out_variable_says_off_no_file_no_socket_no_thread_no_record",
        || when_off_nothing_happens(opt_out_paths()),
    );
}

#[test]
fn without_a_usable_endpoint_no_file_no_socket_no_thread_no_record() {
    run_alone(
        "when_off::without_a_usable_endpoint_no_file_no_socket_no_thread_no_record",
        || when_off_nothing_happens(endpoint_paths()),
    );
}

/// Builds a client for each path (all off), records everything through it
/// (and through `Telemetry::disabled()`), then checks that nothing at all
/// happened.
fn when_off_nothing_happens(paths: Vec<OptOutPath>) {
    assert!(!paths.is_empty());
    let (collector, root, _) = scene("when-off");

    // The probe itself sees a new thread (where /proc lists them).
    let before = thread_ids();
    let (started, wait) = std::sync::mpsc::channel::<()>();
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let probe = std::thread::spawn(move || {
        started.send(()).unwrap();
        let _ = hold.recv();
    });
    wait.recv().unwrap();
    if cfg!(target_os = "linux") {
        assert_eq!(
            thread_ids().len(),
            before.len() + 1,
            "the thread probe works"
        );
    }
    release.send(()).unwrap();
    probe.join().unwrap();

    let threads_before = thread_ids();
    for (index, (path, env, endpoint)) in paths.into_iter().enumerate() {
        let config_dir = root.join(format!("config-{index}"));
        let debug = MemoryWriter::new();
        let notice = MemoryWriter::new();
        let mut builder = Telemetry::builder("off-test", "1.0.0")
            .config_dir(&config_dir)
            .debug(true)
            .debug_writer(debug.clone())
            .notice_writer(notice.clone())
            .timeout(Duration::from_secs(5))
            .env_vars(env);
        match endpoint {
            Some(endpoint) if endpoint.is_empty() => {}
            Some(endpoint) => builder = builder.endpoint(endpoint),
            None => builder = builder.endpoint(collector.url()),
        }
        let telemetry = builder.build();
        assert!(!telemetry.is_enabled(), "{path}");
        telemetry_core::set_global(telemetry.clone());
        record_everything(&telemetry);
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
        assert!(
            !config_dir.exists(),
            "{path}: the config dir was created: {:?}",
            tree(&config_dir)
        );
    }
    let disabled = Telemetry::disabled();
    telemetry_core::set_global(disabled.clone());
    record_everything(&disabled);
    use_everything(&disabled);

    assert_eq!(tree(root.path()), Vec::<std::path::PathBuf>::new());
    assert_eq!(collector.connections(), 0, "no socket was opened");
    assert_eq!(
        thread_ids(),
        threads_before,
        "a thread was started: {:?}",
        threads()
    );
    assert!(!threads().iter().any(|(_, name)| name.contains("telemetry")));
    // No enabled client was ever built: the macros' one-load check is false.
    assert!(!telemetry_core::__private::active());
}
