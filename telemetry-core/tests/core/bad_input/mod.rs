//! Bad input: a clear message, a safe default, no panic.
//!
//! The environment is always passed through `TelemetryBuilder::env_vars`
//! (never by changing the process environment), records go to a real
//! loopback collector, and every body it receives must be valid JSON in the
//! wire format within the documented size cap.

use crate::common::{file_as_config_dir, scene, NOT_A_DIR};
use serde_json::Value;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use telemetry_core::{
    Outcome, Rule, Telemetry, MAX_NAME_LEN, MAX_RECORD_LEN, MAX_TAGS, MAX_TAG_KEY_LEN,
    MAX_TAG_VALUE_LEN, NOTICE_MARKER_FILE, USER_UUID_FILE,
};
use telemetry_test_support::collector::{check_body, Collector};
use telemetry_test_support::isolated;
use telemetry_test_support::{is_uuid, MemoryWriter, TempDir};

const APP: &str = "bad-input-test";

mod config_files;

/// Not UTF-8.
fn non_utf8(prefix: &str) -> OsString {
    let mut bytes = prefix.as_bytes().to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, b'x', 0x80]);
    OsString::from_vec(bytes)
}

struct Run {
    telemetry: Telemetry,
    debug: MemoryWriter,
    notice: MemoryWriter,
}

#[derive(Default)]
struct Options<'a> {
    endpoint: Option<&'a str>,
    config_dir: Option<&'a Path>,
    notice: bool,
    env: Vec<(&'static str, OsString)>,
}

fn build(options: Options<'_>) -> Run {
    let debug = MemoryWriter::new();
    let notice = MemoryWriter::new();
    let mut builder = Telemetry::builder(APP, "1.0.0")
        .debug(true)
        .debug_writer(debug.clone())
        .notice(options.notice)
        .notice_writer(notice.clone())
        .timeout(Duration::from_secs(5))
        .env_vars(options.env);
    if let Some(endpoint) = options.endpoint {
        builder = builder.endpoint(endpoint);
    }
    if let Some(dir) = options.config_dir {
        builder = builder.config_dir(dir);
    }
    Run {
        telemetry: builder.build(),
        debug,
        notice,
    }
}

/// A healthy collector, a new config dir (named after `label`), and a
/// [`run_with`] them.
fn fresh_run(label: &str) -> (Collector, TempDir, Run) {
    let collector = Collector::start().unwrap();
    let dir = TempDir::new(label);
    let run = run_with(&collector, dir.path());
    (collector, dir, run)
}

/// A run that sends to `collector`, with `config_dir`, and nothing else set.
fn run_with(collector: &Collector, config_dir: &Path) -> Run {
    build(Options {
        endpoint: Some(&collector.url()),
        config_dir: Some(config_dir),
        ..Options::default()
    })
}

/// Every body the collector received is the wire format, within the cap;
/// returns the records.
fn wire_records(collector: &Collector) -> Vec<Value> {
    let mut records = Vec::new();
    for request in collector.requests() {
        assert!(
            request.body.len() <= MAX_RECORD_LEN + r#"{"records":[]}"#.len(),
            "a body of {} bytes",
            request.body.len()
        );
        records.extend(check_body(&request.body).expect("the wire format"));
    }
    records
}

// ---------------------------------------------------------------------------
// The environment

/// Each variable the builder reads, holding bytes that are not UTF-8.
#[test]
fn non_utf8_values_in_each_variable() {
    let (collector, dir, _) = scene("env");
    let url = collector.url();
    let plain = || Options {
        endpoint: Some(&url),
        config_dir: Some(dir.path()),
        ..Options::default()
    };

    // The opt-out switches fail closed: a value that cannot be read is a
    // wish not to be tracked.
    for (name, reason) in [
        ("DO_NOT_TRACK", "DO_NOT_TRACK is set"),
        (
            "TELEMETRY_ENABLED",
            "TELEMETRY_ENABLED has an unrecognised value",
        ),
        (
            "TELEMETRY_ENDPOINT",
            "TELEMETRY_ENDPOINT is not valid UTF-8",
        ),
    ] {
        let run = build(Options {
            env: vec![(name, non_utf8("1"))],
            ..plain()
        });
        assert!(!run.telemetry.is_enabled(), "{name}");
        assert!(
            run.debug.text().contains(reason),
            "{name}: {}",
            run.debug.text()
        );
        run.telemetry.track_command("run", ["--x"]);
    }
    assert_eq!(collector.connections(), 0);

    // Tags that cannot be read are left out, and the log says so.
    let run = build(Options {
        env: vec![("TELEMETRY_TAGS", non_utf8("team=a"))],
        ..plain()
    });
    run.telemetry.track_command("tags", Vec::<String>::new());
    assert!(run
        .debug
        .text()
        .contains("TELEMETRY_TAGS is not valid UTF-8"));
    let record = wire_records(&collector).pop().unwrap();
    assert_eq!(record["properties"]["action"], "tags");
    assert!(record["properties"].get("team").is_none());

    // Locale and CI: an unreadable locale is sent as no language; any
    // non-empty CI value that is not a "false" word means CI.
    for name in ["LC_ALL", "LC_MESSAGES", "LANG"] {
        let run = build(Options {
            env: vec![
                (name, non_utf8("en_US")),
                ("LANG", OsString::from("de_DE.UTF-8")),
            ],
            ..plain()
        });
        run.telemetry.track_command(name, Vec::<String>::new());
        let record = wire_records(&collector).pop().unwrap();
        assert_eq!(record["properties"]["action"], name);
        let language = &record["properties"]["os_language"];
        if name == "LANG" {
            assert_eq!(language, "", "{name}");
        } else {
            assert!(language == "" || language == "de_DE", "{name}: {language}");
        }
    }
    let run = build(Options {
        env: vec![("CI", non_utf8("true"))],
        ..plain()
    });
    run.telemetry.track_command("ci", Vec::<String>::new());
    let record = wire_records(&collector).pop().unwrap();
    assert_eq!(record["properties"]["ci"], true);

    // A banner switch that cannot be read does not hide the notice (the safe
    // side): the first run shows it and holds its events.
    let fresh = TempDir::new("banner");
    let run = build(Options {
        endpoint: Some(&url),
        config_dir: Some(fresh.path()),
        notice: true,
        env: vec![("TELEMETRY_HIDE_BANNER", non_utf8("1"))],
    });
    let requests = collector.requests().len();
    run.telemetry.track_command("held", Vec::<String>::new());
    assert!(
        run.notice.text().contains("To opt out"),
        "{}",
        run.notice.text()
    );
    assert!(run.debug.text().contains("first run"));
    assert_eq!(collector.requests().len(), requests);
}

/// `XDG_CONFIG_HOME` and `HOME` are paths, which need not be UTF-8 on Unix:
/// the id lives there like anywhere else.
#[test]
fn non_utf8_config_paths_work() {
    let (collector, root, _) = scene("paths");
    let mut xdg = root.path().as_os_str().to_owned();
    xdg.push(non_utf8("/xdg-"));
    let mut home = root.path().as_os_str().to_owned();
    home.push(non_utf8("/home-"));
    let expected = [
        (
            "XDG_CONFIG_HOME",
            xdg.clone(),
            PathBuf::from(&xdg).join(APP).join(USER_UUID_FILE),
        ),
        (
            "HOME",
            home.clone(),
            PathBuf::from(&home)
                .join(".config")
                .join(APP)
                .join(USER_UUID_FILE),
        ),
    ];
    for (name, value, uuid_file) in expected {
        let run = build(Options {
            endpoint: Some(&collector.url()),
            env: vec![(name, value)],
            ..Options::default()
        });
        run.telemetry.track_command("path", Vec::<String>::new());
        let record = wire_records(&collector).pop().unwrap();
        let id = std::fs::read_to_string(&uuid_file).expect(name);
        assert_eq!(record["properties"]["user_uuid"], id.trim(), "{name}");
    }
}

#[test]
fn huge_telemetry_tags_are_capped() {
    let (collector, dir, _) = scene("tags");
    let many: String = (0..100_000).map(|i| format!("key{i}=value{i},")).collect();
    let one_mb_value = format!("big={}", "v".repeat(1 << 20));
    let one_mb_of_entries: String = "k=v,".repeat((1 << 20) / 4);
    let known: Vec<String> = {
        let run = run_with(&collector, dir.path());
        run.telemetry.track_command("plain", Vec::<String>::new());
        let record = wire_records(&collector).pop().unwrap();
        record["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    for tags_value in [many, one_mb_value, one_mb_of_entries] {
        let run = build(Options {
            endpoint: Some(&collector.url()),
            config_dir: Some(dir.path()),
            env: vec![("TELEMETRY_TAGS", tags_value.into())],
            ..Options::default()
        });
        run.telemetry.track_command("plain", Vec::<String>::new());
        let record = wire_records(&collector).pop().unwrap();
        let tags: Vec<(&String, &Value)> = record["properties"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(key, _)| !known.contains(key))
            .collect();
        assert!(!tags.is_empty() && tags.len() <= MAX_TAGS, "{}", tags.len());
        for (key, value) in tags {
            assert!(key.len() <= MAX_TAG_KEY_LEN);
            assert!(value.as_str().unwrap().len() <= MAX_TAG_VALUE_LEN);
        }
    }
}

#[test]
fn bad_endpoints_turn_telemetry_off_with_the_reason() {
    let cases = [
        ("not a url", "the endpoint is not a URL"),
        ("ftp://x", "scheme is not http or https"),
        ("", "the endpoint is empty"),
        ("   ", "the endpoint is empty"),
        ("http://", "the endpoint is not a URL"),
        ("http://:8080/v1/events", "the endpoint is not a URL"),
    ];
    for (endpoint, reason) in cases {
        // Given to the builder.
        let run = build(Options {
            endpoint: Some(endpoint),
            ..Options::default()
        });
        assert!(!run.telemetry.is_enabled(), "{endpoint:?}");
        let log = run.debug.text();
        assert!(log.contains("telemetry is off"), "{endpoint:?}: {log}");
        // `http://` has no host: the URL parser already refuses it.
        assert!(
            log.contains(reason) || (endpoint.starts_with("http:") && log.contains("no host")),
            "{endpoint:?}: {log}"
        );
        run.telemetry
            .record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);

        // Given through TELEMETRY_ENDPOINT, which overrides a good one. A
        // blank variable counts as unset.
        let collector = Collector::start().unwrap();
        let run = build(Options {
            endpoint: Some(&collector.url()),
            env: vec![("TELEMETRY_ENDPOINT", endpoint.into())],
            config_dir: Some(TempDir::new("endpoint").path()),
            ..Options::default()
        });
        run.telemetry.track_command("x", Vec::<String>::new());
        if endpoint.trim().is_empty() {
            assert!(run.telemetry.is_enabled());
            assert_eq!(collector.records().len(), 1);
        } else {
            assert!(!run.telemetry.is_enabled(), "{endpoint:?}");
            assert!(run.debug.text().contains("telemetry is off"));
            assert_eq!(collector.connections(), 0);
        }
    }
}

// ---------------------------------------------------------------------------
// Values

#[test]
fn huge_and_control_character_names_stay_bounded_valid_json() {
    let (collector, _dir, run) = fresh_run("names");
    let t = &run.telemetry;
    let one_mb = "é".repeat(1 << 19); // 1 MiB of two-byte characters
    let control: String = (0u8..0x20)
        .map(char::from)
        .chain("\"\\\u{7f}\u{2028}".chars())
        .collect();
    for name in [
        one_mb.clone(),
        control.clone(),
        format!("{control}{one_mb}"),
    ] {
        t.track_command(name.clone(), [format!("--{name}"), name.clone()]);
        t.record_tool_call(
            name.clone(),
            &name,
            &name,
            Duration::MAX,
            Outcome::failure(name.clone()),
        );
        t.record_token_usage(name.clone(), 1, 1, 0.0);
        let session = t.start_session(name.clone());
        session.scope(|| {
            telemetry_core::record_tool_call(
                name.clone(),
                session.id(),
                &name,
                Duration::ZERO,
                Outcome::failure(name.clone()),
            );
            telemetry_core::record_token_usage(name.clone(), 1, 1, 0.0);
        });
        session.record_error(&name);
        session.end();
    }
    let records = wire_records(&collector);
    assert_eq!(records.len(), 3 * 7);
    for record in &records {
        for key in [
            "action",
            "tool_name",
            "model_name",
            "agent_name",
            "session_id",
            "error",
        ] {
            if let Some(text) = record["properties"][key].as_str() {
                assert!(text.len() <= MAX_NAME_LEN, "{key}: {} bytes", text.len());
            }
        }
        if let Some(kinds) = record["properties"]["error"].as_array() {
            // The session saw one kind, twice (a failed tool call and
            // `record_error`): it is listed once, cut like a name.
            assert_eq!(kinds.len(), 1, "{kinds:?}");
            assert!(kinds[0].as_str().unwrap().len() <= MAX_NAME_LEN);
            assert_eq!(record["properties"]["error_count"], 2);
        }
    }
    // Control characters are escaped: the debug log keeps one line per
    // record.
    let debug_records = run.debug.count("[telemetry] {");
    assert_eq!(debug_records, records.len());
    assert!(run
        .debug
        .lines()
        .iter()
        .all(|line| line.starts_with("[telemetry] ")));
}

#[test]
fn costs_that_are_not_finite_or_negative_are_sent_as_zero() {
    let (collector, _dir, run) = fresh_run("costs");
    let bad = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -1.0,
        -0.0,
        -f64::MIN_POSITIVE,
    ];
    for cost in bad {
        run.telemetry.record_token_usage("m", 1, 1, cost);
    }
    let session = run.telemetry.start_session("a");
    for cost in bad {
        session.record_token_usage("m", 1, 1, cost);
    }
    // Two huge costs whose sum overflows to infinity.
    session.record_token_usage("m", 1, 1, f64::MAX);
    session.record_token_usage("m", 1, 1, f64::MAX);
    session.end();
    let records = wire_records(&collector);
    for record in &records[..2 * bad.len() + 1] {
        if record["event"] == "token" {
            let cost = record["properties"]["cost"].as_f64().expect("a number");
            assert_eq!(cost, 0.0, "{record}");
        }
    }
    let end = records.last().unwrap();
    let total = end["properties"]["cost"]
        .as_f64()
        .expect("a number, not null");
    assert!(total.is_finite() && total >= 0.0, "{end}");
}

#[test]
fn token_counts_at_u64_max_do_not_overflow() {
    let (collector, _dir, run) = fresh_run("tokens");
    run.telemetry
        .record_token_usage("m", u64::MAX, u64::MAX, 1.0);
    let session = run.telemetry.start_session("a");
    for _ in 0..3 {
        session.record_token_usage("m", u64::MAX, u64::MAX, 1.0);
    }
    session.end();
    let records = wire_records(&collector);
    assert_eq!(records.len(), 6);
    for record in records.iter().filter(|r| r["event"] == "token") {
        assert_eq!(record["properties"]["input_tokens"], u64::MAX);
        assert_eq!(record["properties"]["total_tokens"], u64::MAX, "saturated");
    }
    let end = &records[5]["properties"];
    assert_eq!(end["input_tokens"], u64::MAX);
    assert_eq!(end["output_tokens"], u64::MAX);
    assert_eq!(end["total_tokens"], u64::MAX);
}

/// The largest records the caps allow, made of the characters JSON escapes
/// most expensively (six bytes each), still fit `MAX_RECORD_LEN`.
#[test]
fn the_largest_possible_records_fit_the_documented_cap() {
    // Characters that serde_json writes as `\u00XX`, and that trimming keeps.
    let escaped: Vec<char> = (1u8..0x20)
        .map(char::from)
        .filter(|c| !c.is_whitespace() && !matches!(c, '\u{8}' | '\u{c}'))
        .collect();
    let worst = |len: usize, salt: usize| -> String {
        (0..len)
            .map(|i| {
                escaped[if i < 2 {
                    (salt >> (4 * i)) % escaped.len()
                } else {
                    0
                }]
            })
            .collect()
    };
    let tags: Vec<String> = (0..MAX_TAGS)
        .map(|i| {
            format!(
                "{}={}",
                worst(MAX_TAG_KEY_LEN, i * 17 + 1),
                worst(MAX_TAG_VALUE_LEN, 0)
            )
        })
        .collect();
    let (collector, dir, debug) = scene("cap");
    // The version goes into the User-Agent header too, so it can only hold
    // visible characters; `"` is the one JSON escapes.
    let telemetry = Telemetry::builder(APP, "\"".repeat(200))
        .endpoint(collector.url())
        .config_dir(dir.path())
        .notice(false)
        .debug(true)
        .debug_writer(debug.clone())
        .env_vars([("TELEMETRY_TAGS", tags.join(","))])
        .build();
    let name = |salt| worst(MAX_NAME_LEN * 2, salt);
    let flags: Vec<String> = (0..100)
        .map(|i| format!("--{i:x}{}", "f".repeat(100)))
        .collect();
    let flags: Vec<String> = flags.iter().map(|f| f[..62].to_owned()).collect();
    telemetry.record_command(name(1), &flags, Duration::MAX, Outcome::failure(name(2)));
    telemetry.record_tool_call(
        name(3),
        &name(4),
        &name(5),
        Duration::MAX,
        Outcome::failure(name(6)),
    );
    telemetry.record_token_usage(name(7), u64::MAX, u64::MAX, f64::MAX);
    let session = telemetry.start_session(name(8));
    for kind in 0..100 {
        session.record_error(&name(9 + kind));
    }
    session.record_token_usage(name(7), u64::MAX, u64::MAX, f64::MAX);
    session.end();

    let records = wire_records(&collector);
    assert_eq!(records.len(), 6);
    let tag_count = records[0]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|key| key.starts_with('\u{1}') || key.chars().next().is_some_and(char::is_control))
        .count();
    assert_eq!(tag_count, MAX_TAGS, "every tag made it");
    let largest = collector
        .requests()
        .iter()
        .map(|request| request.body.len())
        .max()
        .unwrap();
    eprintln!("largest body: {largest} bytes (cap {MAX_RECORD_LEN})");
    assert!(
        largest > MAX_RECORD_LEN / 2,
        "the worst case is not worst: {largest}"
    );
    assert_eq!(debug.count("[telemetry] {"), 6);
}

#[test]
fn extreme_timeouts_neither_panic_nor_hang() {
    for timeout in [
        Duration::MAX,
        Duration::from_secs(u64::MAX / 2),
        Duration::from_nanos(1),
    ] {
        let (collector, dir, debug) = scene("timeouts");
        let telemetry = isolated(APP, "1.0.0")
            .endpoint(collector.url())
            .config_dir(dir.path())
            .timeout(timeout)
            .debug(true)
            .debug_writer(debug.clone())
            .build();
        telemetry.track_command("thread", Vec::<String>::new());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async { telemetry.track_command("runtime", Vec::<String>::new()) });
        // A timeout too short to connect is a timeout like any other.
        let arrived = collector.records().len();
        if timeout >= Duration::from_secs(1) {
            assert_eq!(arrived, 2, "{timeout:?}: {}", debug.text());
        } else {
            assert!(
                arrived == 2 || debug.count("delivery stopped") == 1,
                "{}",
                debug.text()
            );
        }
    }
}
