//! What never leaves the machine nor reaches the debug log: argument values
//! and prompts (only flag names are sent), error messages (only the kind),
//! the API key and credentials in the endpoint (a header only, never
//! printed), and no canary planted where private data enters. Checked on
//! the raw requests a loopback collector received.

use std::io;
use std::time::Duration;
use telemetry_core::{tracked_command, tracked_tool};
use telemetry_core::{HttpSink, MemorySink, Outcome, Sink, Telemetry, TelemetryBuilder};
use telemetry_test_support::canary::Canaries;
use telemetry_test_support::collector::{Behaviour, Collector};
use telemetry_test_support::fs::files_under;
use telemetry_test_support::isolated;
use telemetry_test_support::net::{refused_addr, refused_endpoint};
use telemetry_test_support::{MemoryWriter, TempDir};

const API_KEY: &str = "sk-live-0123456789-KEYMATERIAL";

fn client(endpoint: &str, debug: &MemoryWriter) -> Telemetry {
    isolated("privacy-test", "1.0.0")
        .endpoint(endpoint)
        .api_key(API_KEY)
        .timeout(Duration::from_secs(5))
        .debug(true)
        .debug_writer(debug.clone())
        .flags(["--model", "--token", "-m", "--path"])
        .build()
}

/// A builder for `app` that sends to `collector` and logs to `debug`, with
/// nothing else isolated (the config dir and notice are the caller's).
fn logging_builder(app: &str, collector: &Collector, debug: &MemoryWriter) -> TelemetryBuilder {
    Telemetry::builder(app, "1.0.0")
        .endpoint(collector.url())
        .debug(true)
        .debug_writer(debug.clone())
}

/// A healthy collector, and a [`client`] of it whose debug log is returned.
fn collector_and_client() -> (Collector, MemoryWriter, Telemetry) {
    let collector = Collector::start().unwrap();
    let debug = MemoryWriter::new();
    let telemetry = client(&collector.url(), &debug);
    (collector, debug, telemetry)
}

/// None of `secrets` is in a request body or on the debug log.
fn assert_sent_nor_logged(collector: &Collector, debug: &MemoryWriter, secrets: &[&str]) {
    assert_absent(&raw_bodies(collector), secrets, "the request body");
    assert_absent(&debug.text(), secrets, "the debug log");
}

fn raw_bodies(collector: &Collector) -> String {
    collector
        .requests()
        .iter()
        .map(|request| String::from_utf8_lossy(&request.body).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_absent(haystack: &str, needles: &[&str], place: &str) {
    for needle in needles {
        assert!(
            !haystack.contains(needle),
            "{needle:?} found in {place}: {haystack}"
        );
    }
}

#[test]
fn only_the_flag_name_of_model_and_nothing_of_the_prompt_is_sent() {
    let (collector, debug, telemetry) = collector_and_client();
    telemetry.track_command("run", ["--model=gpt-4", "my secret prompt"]);

    let records = collector.records();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0]["properties"]["args"],
        serde_json::json!(["--model"])
    );
    let secrets = [
        "my secret prompt",
        "secret",
        "prompt",
        "gpt-4",
        "gpt",
        "=",
        "my ",
    ];
    assert_sent_nor_logged(&collector, &debug, &secrets);
}

#[test]
fn values_positionals_and_everything_after_the_terminator_are_dropped() {
    let (collector, debug, telemetry) = collector_and_client();
    telemetry.track_command(
        "chat",
        [
            "--token=tok-PRIVATE",
            "-m",
            "positional-PRIVATE",
            "--path=/home/someone/PRIVATE.txt",
            "-- dashed prompt PRIVATE",
            "-5",
            "--",
            "--after-terminator",
        ],
    );
    let records = collector.records();
    assert_eq!(
        records[0]["properties"]["args"],
        serde_json::json!(["--token", "-m", "--path"])
    );
    let secrets = ["PRIVATE", "tok-", "/home", "someone", "after-terminator"];
    assert_sent_nor_logged(&collector, &debug, &secrets);
}

#[test]
fn an_error_is_sent_by_its_kind_never_its_message() {
    let (collector, debug, telemetry) = collector_and_client();
    let failed: Result<(), std::io::Error> =
        Err(std::io::Error::other("cannot open /home/someone/ERRORTEXT"));
    telemetry.record_command(
        "open",
        Vec::<String>::new(),
        Duration::ZERO,
        Outcome::from(&failed),
    );
    telemetry.record_tool_call("read", "", "", Duration::ZERO, Outcome::from(&failed));
    let records = collector.records();
    assert_eq!(records[0]["properties"]["error"], "std::io::error::Error");
    assert_eq!(records[1]["properties"]["error"], "std::io::error::Error");
    let secrets = ["ERRORTEXT", "/home", "cannot open"];
    assert_sent_nor_logged(&collector, &debug, &secrets);
}

#[test]
fn the_api_key_is_sent_as_a_header_only() {
    let collector = Collector::start().unwrap();
    let debug = MemoryWriter::new();
    client(&collector.url(), &debug).track_command("run", Vec::<String>::new());
    let request = &collector.requests()[0];
    assert_eq!(request.header("x-api-key"), Some(API_KEY));
    assert_absent(
        &raw_bodies(&collector),
        &[API_KEY, "KEYMATERIAL"],
        "the body",
    );
}

// ---------------------------------------------------------------------------
// The API key (and credentials in the endpoint) are never printed

const URL_PASSWORD: &str = "canary-password-52ab";

/// What was printed shows records, and no secret.
fn assert_logged_without_secret(printed: &str) {
    assert!(
        printed.contains("[telemetry] {"),
        "records were logged: {printed}"
    );
    assert_no_secret("debug output", printed);
}

fn assert_no_secret(what: &str, text: &str) {
    assert_absent(text, &[API_KEY, "KEYMATERIAL"], what);
    assert!(
        !text.contains(URL_PASSWORD),
        "{what} shows the endpoint's password: {text}"
    );
}

/// An endpoint with a secret in its query, for the collector at `addr`
/// (a user name or password in it is refused outright: see
/// `where_data_goes.rs`).
fn endpoint_with_password(addr: std::net::SocketAddr) -> String {
    format!("http://{addr}/v1/events?token={URL_PASSWORD}")
}

/// Records of each kind; returns the debug log and the client's `Debug`.
fn record_and_collect(telemetry: &Telemetry, debug: &MemoryWriter) -> String {
    telemetry.track_command("run", ["--api-key=x"]);
    telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    telemetry.start_session("agent").end();
    format!("{}{telemetry:?}\n", debug.text())
}

/// Whatever the collector answers (or none at all): not in the builder's
/// or the client's `Debug`, not in the debug log, never in a body (the key
/// travels in its header only).
#[test]
fn the_api_key_is_never_printed_whatever_the_collector_answers() {
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
        let debug = MemoryWriter::new();
        let builder = isolated("privacy-test", "1.0.0")
            .endpoint(endpoint_with_password(addr))
            .api_key(API_KEY)
            .timeout(Duration::from_millis(300))
            .debug(true)
            .debug_writer(debug.clone());
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

    let mut printed = String::new();

    // Accepted, then rejected with a 500.
    let (collector, debug, telemetry) = collector_and_client();
    record_and_collect(&telemetry, &debug);
    collector.set_behaviour(Behaviour::Status(500));
    printed.push_str(&record_and_collect(&telemetry, &debug));
    assert!(debug.text().contains("500"), "{}", debug.text());

    // Refused, so delivery stops.
    let debug = MemoryWriter::new();
    let telemetry = client(&refused_endpoint(), &debug);
    printed.push_str(&record_and_collect(&telemetry, &debug));
    assert!(debug.text().contains("stopped"), "{}", debug.text());

    assert_logged_without_secret(&printed);
}

/// Nor while the first run holds the records back, nor when a bad setting
/// turns telemetry off (a key a header cannot carry among them).
#[test]
fn the_api_key_is_never_printed_when_held_or_off() {
    let collector = Collector::start().unwrap();
    let mut printed = String::new();

    // First run: held back.
    let root = TempDir::new("privacy-first-run");
    let debug = MemoryWriter::new();
    let notice = MemoryWriter::new();
    let builder = logging_builder("privacy-test", &collector, &debug)
        .api_key(API_KEY)
        .config_dir(root.path())
        .notice_writer(notice.clone())
        .env(|_| None);
    printed.push_str(&format!("{builder:?}\n"));
    let telemetry = builder.build();
    printed.push_str(&record_and_collect(&telemetry, &debug));
    printed.push_str(&notice.text());

    // Off: a bad endpoint, and a key a header cannot carry.
    for (endpoint, key) in [
        ("not a url", API_KEY.to_owned()),
        (collector.url().as_str(), format!("{API_KEY}\nsecond line")),
    ] {
        let debug = MemoryWriter::new();
        let telemetry = isolated("privacy-test", "1.0.0")
            .endpoint(endpoint)
            .api_key(key)
            .debug(true)
            .debug_writer(debug.clone())
            .build();
        assert!(!telemetry.is_enabled());
        printed.push_str(&record_and_collect(&telemetry, &debug));
        assert!(!debug.is_empty(), "the reason is logged");
    }
    assert_logged_without_secret(&printed);
}

#[test]
fn send_errors_and_setting_errors_do_not_show_the_key() {
    // Records to send, made by a client on a memory sink.
    let memory = MemorySink::new();
    let telemetry = isolated("privacy-test", "1.0.0")
        .sink(memory.clone())
        .build();
    telemetry.track_command("c", Vec::<String>::new());
    let records = memory.records();

    let garbage = Collector::start_with(Behaviour::Garbage).unwrap();
    let rejecting = Collector::start_with(Behaviour::Status(403)).unwrap();
    for addr in [refused_addr(), garbage.addr(), rejecting.addr()] {
        let sink = HttpSink::new(
            &endpoint_with_password(addr),
            "privacy-test/1.0.0",
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
    let debug = MemoryWriter::new();
    let telemetry = Telemetry::builder("privacy-test", "1.0.0")
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

// ---------------------------------------------------------------------------
// Canaries: unique markers planted where private data enters (positional
// arguments and `--flag=value` values given to `track_command`, a tracked
// tool's parameter (a prompt), an error's message, a panic's message, the
// `HOME` path, the user and host name variables); none may appear in a
// request, the debug output or a file written. (The same for the `agent`
// example as a process: the root package's end-to-end tests.)

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
    let places = [
        "positional",
        "flag-value",
        "prompt",
        "panic",
        "home",
        "user",
        "host",
    ];
    let [positional, flag_value, prompt, panic_message, home_name, user, host] =
        places.map(|place| canaries.plant(place));

    let root = TempDir::new("canaries");
    let home = root.join(format!("home-{home_name}"));
    let collector = Collector::start().unwrap();
    let debug = MemoryWriter::new();
    let telemetry = logging_builder("canary-test", &collector, &debug)
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
