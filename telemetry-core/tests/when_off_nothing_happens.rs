//! When telemetry is off, for any reason: no file in the config dir, no
//! connection at the collector, no thread started, and the macros' fast
//! path stays closed. Threads are counted from `/proc/self/status`, so this
//! is the only test in its binary: no other test's thread can come or go
//! while it counts.

mod common;

use common::{entries, SharedBuf, TempDir};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use telemetry_collector::Collector;
use telemetry_core::{Outcome, Telemetry, WithTelemetry};

/// This process's thread count (Linux).
#[cfg(target_os = "linux")]
fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|count| count.trim().parse().ok())
        .expect("a Threads: line")
}

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

/// A name, the environment, and the builder's endpoint.
type OffCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<&'a str>);

/// Every way of recording, on the client and through the context.
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

#[test]
fn when_off_no_file_no_connection_no_thread() {
    let collector = Collector::start().unwrap();
    let root = TempDir::new("when-off");

    #[cfg(target_os = "linux")]
    {
        // The probe itself sees a new thread.
        let before = threads();
        let (started, wait) = std::sync::mpsc::channel::<()>();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let probe = std::thread::spawn(move || {
            started.send(()).unwrap();
            let _ = hold.recv();
        });
        wait.recv().unwrap();
        assert_eq!(threads(), before + 1, "the thread count probe works");
        release.send(()).unwrap();
        probe.join().unwrap();
    }
    #[cfg(target_os = "linux")]
    let before = threads();

    let url = collector.url();
    let cases: [OffCase; 6] = [
        ("do-not-track", vec![("DO_NOT_TRACK", "1")], Some(&url)),
        (
            "enabled-false",
            vec![("TELEMETRY_ENABLED", "false")],
            Some(&url),
        ),
        (
            "enabled-unrecognised",
            vec![("TELEMETRY_ENABLED", "fasle")],
            Some(&url),
        ),
        ("no-endpoint", vec![], None),
        (
            "bad-env-endpoint",
            vec![("TELEMETRY_ENDPOINT", "ftp://x")],
            Some(&url),
        ),
        ("bad-endpoint", vec![], Some("http://")),
    ];
    for (name, vars, endpoint) in &cases {
        let config_dir = root.join(name);
        let mut builder = Telemetry::builder("off-test", "1.0.0")
            .config_dir(&config_dir)
            .notice_writer(SharedBuf::new())
            .debug(true)
            .debug_writer(SharedBuf::new())
            .timeout(Duration::from_secs(5))
            .env_vars(vars.clone());
        if let Some(endpoint) = endpoint {
            builder = builder.endpoint(*endpoint);
        }
        let telemetry = builder.build();
        assert!(!telemetry.is_enabled(), "{name}");
        record_everything(&telemetry);
        assert!(!config_dir.exists(), "{name}: the config dir was created");
    }
    record_everything(&Telemetry::disabled());

    assert_eq!(entries(root.path()), Vec::<String>::new());
    assert_eq!(collector.connections(), 0, "no socket was opened");
    #[cfg(target_os = "linux")]
    assert_eq!(threads(), before, "no thread was started");
    // No enabled client was ever built: the macros' one-load check is false.
    assert!(!telemetry_core::__private::active());
}
