//! Security and privacy: the API key (and credentials in the endpoint) are
//! never printed; the files the toolkit creates are private and never
//! written through a planted link; the run that shows the notice sends
//! nothing.

#[path = "support/reliability.rs"]
mod reliability;

use reliability::{refused_addr, DebugCapture, TempDir};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;
use telemetry_collector::{Behaviour, Collector};
use telemetry_core::{
    HttpSink, MemorySink, Outcome, Sink, Telemetry, NOTICE_MARKER_FILE, USER_UUID_FILE,
};

const API_KEY: &str = "sk-canary-key-7c3e91d0";
const URL_PASSWORD: &str = "canary-password-52ab";

fn assert_no_secret(what: &str, text: &str) {
    assert!(!text.contains(API_KEY), "{what} shows the API key: {text}");
    assert!(
        !text.contains(URL_PASSWORD),
        "{what} shows the endpoint's password: {text}"
    );
}

/// An endpoint with credentials in it, for the collector at `addr`.
fn endpoint_with_password(addr: std::net::SocketAddr) -> String {
    format!("http://user:{URL_PASSWORD}@{addr}/v1/events?token={URL_PASSWORD}")
}

#[test]
fn the_api_key_is_never_printed() {
    // Every answer a collector can give, and none at all.
    let behaviours = [
        Some(Behaviour::Accept),
        Some(Behaviour::Status(401)),
        Some(Behaviour::Status(500)),
        Some(Behaviour::Garbage),
        Some(Behaviour::Reset),
        Some(Behaviour::Blackhole),
        None,
    ];
    for behaviour in behaviours {
        let collector = behaviour.clone().map(|b| Collector::start_with(b).unwrap());
        let addr = collector
            .as_ref()
            .map_or_else(refused_addr, Collector::addr);
        let debug = DebugCapture::new();
        let builder = Telemetry::builder("security-test", "1.0.0")
            .endpoint(endpoint_with_password(addr))
            .api_key(API_KEY)
            .timeout(Duration::from_millis(300))
            .notice(false)
            .debug(true)
            .debug_writer(debug.clone())
            .env(|_| None);
        assert_no_secret("the builder's Debug", &format!("{builder:?}"));
        let telemetry = builder.build();
        assert_no_secret("the client's Debug", &format!("{telemetry:?}"));
        for _ in 0..3 {
            telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
            telemetry.track_command("c", [API_KEY, "--key", API_KEY]);
        }
        let what = format!("the debug log ({behaviour:?})");
        assert_no_secret(&what, &debug.text());
        assert!(debug.count("[telemetry] {") >= 6, "{what}");

        // The key travels in its header only, never in a body.
        if let Some(collector) = &collector {
            for request in collector.requests() {
                assert_no_secret("a body", &String::from_utf8_lossy(&request.body));
                assert_eq!(request.header("x-api-key"), Some(API_KEY));
            }
        }
    }
}

#[test]
fn send_errors_and_setting_errors_do_not_show_the_key() {
    // Records to send, made by a client on a memory sink.
    let memory = MemorySink::new();
    let telemetry = Telemetry::builder("security-test", "1.0.0")
        .sink(memory.clone())
        .notice(false)
        .env(|_| None)
        .build();
    telemetry.track_command("c", Vec::<String>::new());
    let records = memory.events();

    let garbage = Collector::start_with(Behaviour::Garbage).unwrap();
    let rejecting = Collector::start_with(Behaviour::Status(403)).unwrap();
    for addr in [refused_addr(), garbage.addr(), rejecting.addr()] {
        let sink = HttpSink::new(
            &endpoint_with_password(addr),
            "security-test/1.0.0",
            Some(API_KEY),
            Duration::from_millis(300),
        )
        .unwrap();
        assert_no_secret("the sink's Debug", &format!("{sink:?}"));
        for _ in 0..2 {
            let error = sink.send(&records).expect_err("a failure");
            assert_no_secret("a send error", &format!("{error} / {error:?}"));
        }
    }

    // A key that cannot go in a header: refused, without being repeated.
    let bad_key = format!("{API_KEY}\nInjected: header");
    let error = HttpSink::new(
        "http://127.0.0.1:9/",
        "app/1",
        Some(&bad_key),
        Duration::from_secs(1),
    )
    .expect_err("a bad key");
    assert_no_secret("a setting error", &format!("{error} / {error:?}"));
    let debug = DebugCapture::new();
    let telemetry = Telemetry::builder("security-test", "1.0.0")
        .endpoint("http://127.0.0.1:9/")
        .api_key(bad_key)
        .debug(true)
        .debug_writer(debug.clone())
        .env(|_| None)
        .build();
    assert!(!telemetry.is_enabled());
    assert!(debug.text().contains("API key"), "{}", debug.text());
    assert_no_secret("the debug log", &debug.text());
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn created_files_are_private() {
    let collector = Collector::start().unwrap();
    let root = TempDir::new("modes");
    // Two levels that do not exist yet: both are created private.
    let parent = root.join("parent");
    let config = parent.join("app");
    let notice = DebugCapture::new();
    let build = || {
        Telemetry::builder("security-test", "1.0.0")
            .endpoint(collector.url())
            .config_dir(&config)
            .notice_writer(notice.clone())
            .env(|_| None)
            .build()
    };
    build().track_command("first-run", Vec::<String>::new());
    // A later run is a later process, which the marker predates.
    std::fs::File::options()
        .write(true)
        .open(config.join(NOTICE_MARKER_FILE))
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    build().track_command("second-run", Vec::<String>::new());

    assert_eq!(mode(&config.join(USER_UUID_FILE)), 0o600);
    assert_eq!(mode(&config.join(NOTICE_MARKER_FILE)), 0o600);
    for dir in [&parent, &config] {
        let mode = mode(dir);
        assert_eq!(mode & 0o022, 0, "{dir:?} is writable by others: {mode:o}");
        assert_eq!(mode, 0o700, "{dir:?}");
    }
    // Nothing else: no temporary file left behind.
    let mut names: Vec<String> = std::fs::read_dir(&config)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [NOTICE_MARKER_FILE, USER_UUID_FILE]);
    // The run that showed the notice sent nothing; the next one did.
    let records = collector.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["properties"]["action"], "second-run");
}

#[test]
fn planted_links_are_never_written_through() {
    // Someone who can write to the config dir plants links at both names,
    // pointing at files of the user's elsewhere (one existing, one not).
    let collector = Collector::start().unwrap();
    let config = TempDir::new("links");
    let elsewhere = TempDir::new("links-target");
    let precious = elsewhere.join("precious");
    std::fs::write(&precious, "keep me").unwrap();
    std::fs::set_permissions(&precious, std::fs::Permissions::from_mode(0o644)).unwrap();
    let would_be_created = elsewhere.join("created-through-link");
    std::os::unix::fs::symlink(&precious, config.join(USER_UUID_FILE)).unwrap();
    std::os::unix::fs::symlink(&would_be_created, config.join(NOTICE_MARKER_FILE)).unwrap();

    for _ in 0..2 {
        let telemetry = Telemetry::builder("security-test", "1.0.0")
            .endpoint(collector.url())
            .config_dir(config.path())
            .notice_writer(std::io::sink())
            .env(|_| None)
            .build();
        telemetry.track_command("x", Vec::<String>::new());
        // Refused: off for the run.
        assert!(!telemetry.is_enabled());
    }
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    assert_eq!(mode(&precious), 0o644);
    assert!(!would_be_created.exists());
    // The links are left as they are, and nothing was sent.
    assert!(std::fs::symlink_metadata(config.join(USER_UUID_FILE))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(collector.requests().len(), 0);
}

#[test]
fn the_run_that_shows_the_notice_opens_no_socket() {
    let collector = Collector::start().unwrap();
    let config = TempDir::new("first-run");
    let notice = DebugCapture::new();
    let telemetry = Telemetry::builder("security-test", "1.0.0")
        .endpoint(collector.url())
        .config_dir(config.path())
        .notice_writer(notice.clone())
        .env(|_| None)
        .build();
    for _ in 0..20 {
        telemetry.track_command("c", Vec::<String>::new());
        telemetry.record_token_usage("m", 1, 1, 0.1);
    }
    assert!(notice.text().contains("To opt out"));
    assert_eq!(collector.connections(), 0);
}
