//! The wire format, pinned against golden records received by a real
//! loopback collector: each event kind's `properties` (names, types and
//! values), the body `{"records":[...]}`, the volatile fields' shapes, tags
//! that can neither override nor duplicate a field, and unique event ids.

use crate::common::{scene, session_totals, token_fields, wire, SESSION_START_FIELDS};
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use telemetry_core::{CiPolicy, HttpSink, MemorySink, Outcome, Record, SendError, Sink, Telemetry};
use telemetry_test_support::collector::Collector;
use telemetry_test_support::isolated;
use telemetry_test_support::json::{now_ms, strict_json};
use telemetry_test_support::{is_uuid_v4, TempDir};

const APP: &str = "wire-test";
const VERSION: &str = "1.2.3";

/// Every common key, in the order they are written.
const COMMON_KEYS: [&str; 10] = [
    "user_uuid",
    "version",
    "os",
    "os_language",
    "arch",
    "ci",
    "ci_provider",
    "ai_agent",
    "event_id",
    "schema_version",
];

const COMMAND_FIELDS: [&str; 5] = ["action", "args", "is_success", "duration_ms", "error"];
const TOOL_FIELDS: [&str; 7] = [
    "action",
    "tool_name",
    "session_id",
    "agent_name",
    "duration_ms",
    "is_success",
    "error",
];

/// The fields of `record`'s kind, in the order they are written.
fn event_keys(record: &Value) -> Vec<&'static str> {
    match (
        record["event"].as_str(),
        record["properties"]["action"].as_str(),
    ) {
        (Some("command"), _) => COMMAND_FIELDS.to_vec(),
        (Some("tool"), _) => TOOL_FIELDS.to_vec(),
        (Some("token"), _) => token_fields(),
        (Some("session"), Some("start")) => SESSION_START_FIELDS.to_vec(),
        (Some("session"), Some("end")) => [
            &SESSION_START_FIELDS[..],
            &["duration_ms"],
            &session_totals(),
        ]
        .concat(),
        other => panic!("unexpected record kind {other:?}"),
    }
}

/// A client of the collector with a fixed environment: a locale, CI, and
/// the given tags. In CI as a user would be (the stored id), so that `ci`
/// is true and the id is the config dir's (the anonymous CI policy's
/// per-process id is `ci_policy.rs`'s).
fn client(collector: &Collector, config_dir: &TempDir, tags: &str) -> Telemetry {
    Telemetry::builder(APP, VERSION)
        .endpoint(collector.url())
        .config_dir(config_dir.path())
        .in_ci(CiPolicy::AsUser)
        .notice(false)
        .timeout(Duration::from_secs(5))
        .env_vars([
            ("LANG", "de_DE.UTF-8"),
            ("CI", "true"),
            ("TELEMETRY_TAGS", tags),
        ])
        .flags(["--model", "-v", "--json", "--x"])
        .build()
}

/// The id the client stored in its config dir.
fn stored_user_uuid(config_dir: &TempDir) -> String {
    let text = std::fs::read_to_string(config_dir.join(telemetry_core::USER_UUID_FILE))
        .expect("the id file exists while telemetry is on");
    text.trim().to_owned()
}

/// Every request body, parsed strictly (a duplicate key fails), checked to
/// be exactly `{"records":[ONE RECORD]}`; returns the records.
fn received(collector: &Collector) -> Vec<Value> {
    collector
        .requests()
        .iter()
        .map(|request| {
            let body = strict_json(&request.body).unwrap_or_else(|error| {
                panic!(
                    "body is not strict JSON ({error}): {}",
                    String::from_utf8_lossy(&request.body)
                )
            });
            let object = body.as_object().expect("the body is an object");
            let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(keys, ["records", "sent_at"], "the body's keys: {body}");
            let sent_at = object["sent_at"].as_u64().expect("`sent_at` is epoch ms");
            let made = object["records"][0]["event_timestamp"]
                .as_u64()
                .expect("event_timestamp");
            assert!(sent_at >= made, "sent after it was made: {body}");
            let records = object["records"].as_array().expect("`records` is an array");
            assert_eq!(records.len(), 1, "one record per request: {body}");
            records[0].clone()
        })
        .collect()
}

/// Checks the volatile fields by shape and removes them: `event_timestamp`
/// (epoch ms within `[before, after]`), `event_id` (a v4 UUID) and
/// `user_uuid` (the stored id).
fn without_volatile(mut record: Value, before: u64, after: u64, user_uuid: &str) -> Value {
    let record_map = record.as_object_mut().expect("a record is an object");
    let timestamp = record_map
        .remove("event_timestamp")
        .and_then(|value| value.as_u64())
        .expect("event_timestamp is a non-negative integer");
    assert!(
        (before..=after).contains(&timestamp),
        "event_timestamp {timestamp} is epoch ms within [{before}, {after}]"
    );
    let properties = record_map["properties"]
        .as_object_mut()
        .expect("properties is an object");
    let event_id = properties.remove("event_id").expect("event_id is present");
    assert!(
        event_id.as_str().is_some_and(is_uuid_v4),
        "event_id is a v4 UUID: {event_id}"
    );
    let id = properties
        .remove("user_uuid")
        .expect("user_uuid is present");
    assert!(
        id.as_str().is_some_and(is_uuid_v4),
        "user_uuid is a v4 UUID: {id}"
    );
    assert_eq!(id, user_uuid, "user_uuid is the stored id");
    record
}

/// The golden record: the event's own properties, then the tags given, then
/// the (non-volatile) common fields.
fn golden(event: &str, fields: Value, tags: Value) -> Value {
    let mut properties: Map<String, Value> = fields.as_object().cloned().expect("an object");
    properties.extend(tags.as_object().cloned().expect("an object"));
    properties.extend(
        json!({
            "version": VERSION,
            "os": std::env::consts::OS,
            "os_language": "de_DE",
            "arch": std::env::consts::ARCH,
            "ci": true,
            "ci_provider": "",
            "ai_agent": "",
            "schema_version": 1,
        })
        .as_object()
        .cloned()
        .expect("an object"),
    );
    json!({ "event": event, "source": APP, "properties": properties })
}

const PLAIN_TAGS: &str = " team = core ,novalue, =empty-key, env=ci";

fn plain_tags() -> Value {
    json!({ "team": "core", "env": "ci" })
}

/// Records with `record`, then returns the one request's record with its
/// volatile fields checked and removed.
fn record_one(record: impl FnOnce(&Telemetry)) -> Value {
    let mut records = record_all(PLAIN_TAGS, record);
    assert_eq!(records.len(), 1, "exactly one request: {records:?}");
    records.remove(0)
}

fn record_all(tags: &str, record: impl FnOnce(&Telemetry)) -> Vec<Value> {
    let (collector, config_dir, _) = scene("wire");
    let telemetry = client(&collector, &config_dir, tags);
    assert!(telemetry.is_enabled());
    let before = now_ms();
    record(&telemetry);
    let after = now_ms();
    let user_uuid = stored_user_uuid(&config_dir);
    received(&collector)
        .into_iter()
        .map(|record| without_volatile(record, before, after, &user_uuid))
        .collect()
}

#[test]
fn command_success_omits_error() {
    let record = record_one(|t| {
        t.record_command(
            "run",
            ["--model=gpt-4", "-v", "prompt"],
            Duration::from_millis(1500),
            Outcome::Success,
        );
    });
    let expected = golden(
        "command",
        json!({
            "action": "run",
            "args": ["--model", "-v"],
            "is_success": true,
            "duration_ms": 1500,
        }),
        plain_tags(),
    );
    assert_eq!(record, expected);
    assert!(record["properties"].get("error").is_none());
}

#[test]
fn track_command_is_a_success_with_zero_duration() {
    let record = record_one(|t| t.track_command("version", ["--json"]));
    let expected = golden(
        "command",
        json!({
            "action": "version",
            "args": ["--json"],
            "is_success": true,
            "duration_ms": 0,
        }),
        plain_tags(),
    );
    assert_eq!(record, expected);
}

#[test]
fn command_failure_carries_the_error_kind() {
    let record = record_one(|t| {
        t.record_command(
            "deploy",
            Vec::<String>::new(),
            Duration::from_millis(7),
            Outcome::failure_of::<std::io::Error>(),
        );
    });
    let expected = golden(
        "command",
        json!({
            "action": "deploy",
            "args": [],
            "is_success": false,
            "duration_ms": 7,
            "error": "std::io::error::Error",
        }),
        plain_tags(),
    );
    assert_eq!(record, expected);
}

#[test]
fn tool_success_and_failure() {
    let records = record_all(PLAIN_TAGS, |t| {
        t.record_tool_call(
            "read_file",
            "sess-1",
            "root",
            Duration::from_millis(12),
            Outcome::Success,
        );
        t.record_tool_call("shell", "", "", Duration::from_millis(3), Outcome::Panicked);
    });
    let expected = [
        golden(
            "tool",
            json!({
                "action": "call",
                "tool_name": "read_file",
                "session_id": "sess-1",
                "agent_name": "root",
                "duration_ms": 12,
                "is_success": true,
            }),
            plain_tags(),
        ),
        golden(
            "tool",
            json!({
                "action": "call",
                "tool_name": "shell",
                "session_id": "",
                "agent_name": "",
                "duration_ms": 3,
                "is_success": false,
                "error": "panic",
            }),
            plain_tags(),
        ),
    ];
    assert_eq!(records, expected);
}

#[test]
fn token_usage_outside_a_session() {
    let record = record_one(|t| t.record_token_usage("gpt-4o", 1200, 300, 0.0125));
    let expected = golden(
        "token",
        json!({
            "action": "usage",
            "session_id": "",
            "agent_name": "",
            "model_name": "gpt-4o",
            "input_tokens": 1200,
            "output_tokens": 300,
            "total_tokens": 1500,
            "cost": 0.0125,
        }),
        plain_tags(),
    );
    assert_eq!(record, expected);
}

#[test]
fn session_start_token_and_end() {
    let mut session_id = String::new();
    let mut outer = Duration::ZERO;
    let records = record_all(PLAIN_TAGS, |t| {
        let started = Instant::now();
        let session = t.start_session("planner");
        session_id = session.id().to_owned();
        session.scope(|| {
            t.record_token_usage("gpt-4o", 100, 20, 0.5);
            t.record_tool_call(
                "search",
                session.id(),
                "planner",
                Duration::from_millis(4),
                Outcome::failure("Timeout"),
            );
        });
        session.end();
        outer = started.elapsed();
    });
    assert!(
        is_uuid_v4(&session_id),
        "session ids are UUIDs: {session_id}"
    );
    assert_eq!(records.len(), 4, "{records:#?}");

    assert_eq!(
        records[0],
        golden(
            "session",
            json!({ "action": "start", "session_id": session_id, "agent_name": "planner" }),
            plain_tags(),
        )
    );
    assert_eq!(
        records[1],
        golden(
            "token",
            json!({
                "action": "usage",
                "session_id": session_id,
                "agent_name": "planner",
                "model_name": "gpt-4o",
                "input_tokens": 100,
                "output_tokens": 20,
                "total_tokens": 120,
                "cost": 0.5,
            }),
            plain_tags(),
        )
    );
    assert_eq!(records[2]["properties"]["session_id"], session_id);
    assert_eq!(records[2]["properties"]["error"], "Timeout");

    // The session's duration is volatile: check it is a whole number of
    // milliseconds no longer than the test measured around the session.
    let mut end = records[3].clone();
    let duration = end["properties"]
        .as_object_mut()
        .unwrap()
        .remove("duration_ms")
        .and_then(|value| value.as_u64())
        .expect("duration_ms is a non-negative integer");
    assert!(u128::from(duration) <= outer.as_millis());
    assert_eq!(
        end,
        golden(
            "session",
            json!({
                "action": "end",
                "session_id": session_id,
                "agent_name": "planner",
                "tool_calls": 1,
                "input_tokens": 100,
                "output_tokens": 20,
                "total_tokens": 120,
                "cost": 0.5,
                "error_count": 1,
                "is_success": false,
                "error": ["Timeout"],
            }),
            plain_tags(),
        )
    );
}

#[test]
fn a_session_without_errors_ends_with_an_empty_error_list() {
    let records = record_all(PLAIN_TAGS, |t| t.start_session("idle").end());
    assert_eq!(records.len(), 2);
    let end = &records[1]["properties"];
    assert_eq!(end["action"], "end");
    assert_eq!(end["is_success"], true);
    assert_eq!(end["error_count"], 0);
    assert_eq!(end["error"], json!([]));
    assert_eq!(end["cost"], json!(0.0));
    assert!(end["cost"].is_f64(), "cost is a float: {end}");
}

#[test]
fn tags_cannot_override_or_duplicate_common_or_event_fields() {
    // Every common key and every event key of every kind, as a tag.
    let mut hostile: Vec<&str> = COMMON_KEYS.to_vec();
    let event_fields = [
        &COMMAND_FIELDS[..],
        &TOOL_FIELDS,
        &token_fields(),
        &session_totals(),
    ];
    for key in event_fields.concat() {
        if !hostile.contains(&key) {
            hostile.push(key);
        }
    }
    let tags: String = hostile
        .iter()
        .map(|key| format!("{key}=evil,"))
        .chain(["team=core".to_owned()])
        .collect();
    let record_everything = |t: &Telemetry| {
        t.track_command("run", ["--x"]);
        t.record_command("run", ["--x"], Duration::ZERO, Outcome::failure("Kind"));
        t.record_tool_call("tool", "s", "a", Duration::ZERO, Outcome::Success);
        t.record_tool_call("tool", "s", "a", Duration::ZERO, Outcome::Cancelled);
        t.record_token_usage("m", 1, 2, 0.25);
        let session = t.start_session("agent");
        session.record_error("Kind");
        session.end();
    };
    let hostile_records = record_all(&tags, record_everything);
    let plain_records = record_all("team=core", record_everything);
    assert_eq!(hostile_records.len(), 7);
    assert_eq!(plain_records.len(), 7);

    for (hostile_record, plain_record) in hostile_records.iter().zip(&plain_records) {
        let own_keys = event_keys(plain_record);
        let mut expected = plain_record.clone();
        let properties = expected["properties"].as_object_mut().unwrap();
        // A tag shows only where its key is neither common nor one of this
        // record's own fields; the session id is random, so compare it by
        // presence.
        for key in &hostile {
            if !COMMON_KEYS.contains(key) && !own_keys.contains(key) {
                properties.insert((*key).to_owned(), json!("evil"));
            }
        }
        let mut actual = hostile_record.clone();
        for record in [&mut actual, &mut expected] {
            if record["event"] == "session" {
                let id = &mut record["properties"]["session_id"];
                assert!(id.as_str().is_some_and(is_uuid_v4));
                *id = json!("<session id>");
            }
            if record["event"] == "session" && record["properties"]["action"] == "end" {
                record["properties"]["duration_ms"] = json!("<duration>");
            }
        }
        assert_eq!(actual, expected);
        // In particular, a success never gains an `error` from a tag.
        if actual["properties"]["is_success"] == true && actual["event"] != "session" {
            assert!(actual["properties"].get("error").is_none(), "{actual}");
        }
    }
}

/// Sends each record to a memory sink and over HTTP.
struct Tee(MemorySink, HttpSink);

impl Sink for Tee {
    fn send(&self, records: &[Record]) -> Result<(), SendError> {
        self.0.send(records)?;
        self.1.send(records)
    }
}

#[test]
fn a_memory_sink_record_serialises_to_exactly_the_wire_record() {
    let collector = Collector::start().unwrap();
    let memory = MemorySink::new();
    let http = HttpSink::new(
        &collector.url(),
        "wire-test/1",
        None,
        Duration::from_secs(5),
    )
    .unwrap();
    let telemetry = Telemetry::builder(APP, VERSION)
        .sink(Tee(memory.clone(), http))
        .notice(false)
        .env_vars([("TELEMETRY_TAGS", "team=core")])
        .build();
    telemetry.track_command("run", ["--model=x"]);
    telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    telemetry.record_token_usage("m", 1, 1, 0.5);
    telemetry.start_session("a").end();

    let in_memory = wire(&memory);
    assert_eq!(in_memory.len(), 5);
    assert_eq!(in_memory, received(&collector));
    // The typed accessors agree with the wire record.
    for (record, wire) in memory.records().iter().zip(&in_memory) {
        assert_eq!(record.event().kind(), wire["event"]);
        assert_eq!(record.source(), wire["source"]);
        assert_eq!(record.timestamp_ms(), wire["event_timestamp"]);
        assert_eq!(record.event_id(), wire["properties"]["event_id"]);
        assert_eq!(strict_json(record.to_json().as_bytes()).unwrap(), *wire);
    }
}

#[test]
fn event_ids_are_unique_across_many_events_and_threads() {
    let sink = MemorySink::new();
    let telemetry = isolated(APP, VERSION).sink(sink.clone()).build();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..2_500 {
                    telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
                }
            });
        }
    });
    let records = sink.records();
    assert_eq!(records.len(), 10_000);
    let ids: HashSet<String> = records.iter().map(Record::event_id).collect();
    assert_eq!(ids.len(), 10_000, "every event_id is distinct");
    assert!(ids.iter().all(|id| is_uuid_v4(id)));
    // One client, one anonymous id.
    let users: HashSet<Value> = records
        .iter()
        .map(|record| serde_json::to_value(record).unwrap()["properties"]["user_uuid"].clone())
        .collect();
    assert_eq!(users.len(), 1);
}

#[test]
fn the_duplicate_key_check_used_above_does_reject_duplicates() {
    assert!(strict_json(br#"{"a":1,"b":{"c":1,"c":2}}"#).is_err());
    assert!(strict_json(br#"{"a":[{"k":1},{"k":2}]}"#).is_ok());
}
