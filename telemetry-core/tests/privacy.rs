//! What never leaves the machine nor reaches the debug log: argument values
//! and prompts (only flag names are sent), error messages (only the kind),
//! and the API key (a header only, never printed). Checked on the raw
//! request bodies a loopback collector received.

mod common;

use common::{SharedBuf, TempDir};
use std::time::Duration;
use telemetry_collector::{Behaviour, Collector};
use telemetry_core::{Outcome, Telemetry};

const API_KEY: &str = "sk-live-0123456789-KEYMATERIAL";

fn client(endpoint: &str, debug: &SharedBuf) -> Telemetry {
    Telemetry::builder("privacy-test", "1.0.0")
        .endpoint(endpoint)
        .api_key(API_KEY)
        .notice(false)
        .timeout(Duration::from_secs(5))
        .debug(true)
        .debug_writer(debug.clone())
        .env(|_| None)
        .flags(["--model", "--token", "-m", "--path"])
        .build()
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
    let collector = Collector::start().unwrap();
    let debug = SharedBuf::new();
    let telemetry = client(&collector.url(), &debug);
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
    assert_absent(&raw_bodies(&collector), &secrets, "the request body");
    assert_absent(&debug.text(), &secrets, "the debug log");
}

#[test]
fn values_positionals_and_everything_after_the_terminator_are_dropped() {
    let collector = Collector::start().unwrap();
    let debug = SharedBuf::new();
    let telemetry = client(&collector.url(), &debug);
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
    assert_absent(&raw_bodies(&collector), &secrets, "the request body");
    assert_absent(&debug.text(), &secrets, "the debug log");
}

#[test]
fn an_error_is_sent_by_its_kind_never_its_message() {
    let collector = Collector::start().unwrap();
    let debug = SharedBuf::new();
    let telemetry = client(&collector.url(), &debug);
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
    assert_absent(&raw_bodies(&collector), &secrets, "the request body");
    assert_absent(&debug.text(), &secrets, "the debug log");
}

#[test]
fn the_api_key_is_sent_as_a_header_only() {
    let collector = Collector::start().unwrap();
    let debug = SharedBuf::new();
    client(&collector.url(), &debug).track_command("run", Vec::<String>::new());
    let request = &collector.requests()[0];
    assert_eq!(request.header("x-api-key"), Some(API_KEY));
    assert_absent(
        &raw_bodies(&collector),
        &[API_KEY, "KEYMATERIAL"],
        "the body",
    );
}

#[test]
fn the_api_key_never_appears_in_debug_output() {
    let mut printed = String::new();
    let record_and_collect = |telemetry: &Telemetry, debug: &SharedBuf| -> String {
        telemetry.track_command("run", ["--api-key=x"]);
        telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
        telemetry.start_session("agent").end();
        format!("{}{telemetry:?}\n", debug.text())
    };

    // Accepted, then rejected with a 500.
    let collector = Collector::start().unwrap();
    let debug = SharedBuf::new();
    let telemetry = client(&collector.url(), &debug);
    record_and_collect(&telemetry, &debug);
    collector.set_behaviour(Behaviour::Status(500));
    printed.push_str(&record_and_collect(&telemetry, &debug));
    assert!(debug.text().contains("500"), "{}", debug.text());

    // Refused, so delivery stops.
    let refused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let debug = SharedBuf::new();
    let telemetry = client(&format!("http://{refused}/v1/events"), &debug);
    printed.push_str(&record_and_collect(&telemetry, &debug));
    assert!(debug.text().contains("stopped"), "{}", debug.text());

    // First run: held back.
    let root = TempDir::new("privacy-first-run");
    let debug = SharedBuf::new();
    let notice = SharedBuf::new();
    let builder = Telemetry::builder("privacy-test", "1.0.0")
        .endpoint(collector.url())
        .api_key(API_KEY)
        .config_dir(root.path())
        .notice_writer(notice.clone())
        .debug(true)
        .debug_writer(debug.clone())
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
        let debug = SharedBuf::new();
        let telemetry = Telemetry::builder("privacy-test", "1.0.0")
            .endpoint(endpoint)
            .api_key(key)
            .notice(false)
            .debug(true)
            .debug_writer(debug.clone())
            .env(|_| None)
            .build();
        assert!(!telemetry.is_enabled());
        printed.push_str(&record_and_collect(&telemetry, &debug));
        assert!(!debug.is_empty(), "the reason is logged");
    }

    assert!(
        printed.contains("[telemetry] {"),
        "records were logged: {printed}"
    );
    assert_absent(&printed, &[API_KEY, "KEYMATERIAL"], "debug output");
}
