//! Unit tests of the OTLP mapping: every event kind, through the real
//! recorder's wire records, and the exact JSON encoding.

use super::*;
use crate::{MemorySink, Outcome, Telemetry};
use std::time::Duration;

/// A client whose records carry these tags, recording into memory.
fn client_with_tags(tags: &str) -> (Telemetry, MemorySink) {
    let sink = MemorySink::new();
    let telemetry = Telemetry::isolated("otlp-test", "2.3.4")
        .sink(sink.clone())
        .flags(["--model", "--yes"])
        .env_vars([("TELEMETRY_TAGS", tags)])
        .build();
    (telemetry, sink)
}

fn wire_records(sink: &MemorySink) -> Vec<Value> {
    sink.records()
        .iter()
        .map(|record| serde_json::from_str(&record.to_json()).unwrap())
        .collect()
}

/// The attributes of a log record or resource as `key → value`.
fn attrs(object: &Value) -> Map<String, Value> {
    object["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| (kv["key"].as_str().unwrap().to_owned(), kv["value"].clone()))
        .collect()
}

/// The log record of `wire`, checked to be a `name` event at `severity`
/// (`INFO` or `WARN`), and its attributes.
fn log_of(wire: &Value, name: &str, severity: &str) -> (Value, Map<String, Value>) {
    let log = log_record(wire).unwrap();
    assert_eq!(log["eventName"], name);
    assert_eq!(log["severityText"], severity);
    let attributes = attrs(&log);
    (log, attributes)
}

/// Checks each named attribute's value.
fn assert_attrs(attributes: &Map<String, Value>, want: &[(&str, Value)]) {
    for (name, value) in want {
        assert_eq!(attributes[*name], *value, "{name}");
    }
}

/// The usage attributes of a token or session end event: its tokens in
/// and out, their total, and the cost as a double.
fn usage(input: u64, output: u64, total: u64, cost: f64) -> [(&'static str, Value); 4] {
    let int = |n: u64| json!({"intValue": n.to_string()});
    [
        ("gen_ai.usage.input_tokens", int(input)),
        ("gen_ai.usage.output_tokens", int(output)),
        ("total_tokens", int(total)),
        ("cost", json!({"doubleValue": cost})),
    ]
}

/// The attributes of the session a record belongs to: its id and agent.
fn in_session(id: &str, agent: &str) -> [(&'static str, Value); 2] {
    [
        ("gen_ai.conversation.id", json!({"stringValue": id})),
        ("gen_ai.agent.name", json!({"stringValue": agent})),
    ]
}

fn keys(object: &Value) -> Vec<String> {
    object["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| kv["key"].as_str().unwrap().to_owned())
        .collect()
}

const HOSTILE_TAGS: &str = "team=core,gen_ai.tool.name=evil,error.type=evil,service.name=evil,\
    log.record.uid=evil,gen_ai.request.model=evil,gen_ai.conversation.id=evil,cost=evil";

#[test]
fn command_maps_flags_to_an_array_and_failure_to_warn() {
    let (telemetry, sink) = client_with_tags(HOSTILE_TAGS);
    telemetry.record_command(
        "run",
        ["--model=gpt", "--yes", "secret"],
        Duration::from_millis(1500),
        Outcome::failure("NotFound"),
    );
    let wire = &wire_records(&sink)[0];
    let (log, a) = log_of(wire, "command", "WARN");
    assert_eq!(log["severityNumber"], 13);
    let flags = json!([{"stringValue": "--model"}, {"stringValue": "--yes"}]);
    assert_attrs(
        &a,
        &[
            ("action", json!({"stringValue": "run"})),
            ("args", json!({"arrayValue": {"values": flags}})),
            ("is_success", json!({"boolValue": false})),
            ("duration_ms", json!({"intValue": "1500"})),
            ("error.type", json!({"stringValue": "NotFound"})),
            ("team", json!({"stringValue": "core"})),
        ],
    );
    assert!(!log.to_string().contains("secret"));
    assert!(!a.contains_key("error"));
    assert_eq!(
        a["log.record.uid"]["stringValue"],
        wire["properties"]["event_id"]
    );
}

#[test]
fn command_flags_are_string_values() {
    let wire = json!({"event":"command","event_timestamp":1,"source":"a",
        "properties":{"action":"run","args":["--model","--yes"],"is_success":true,"duration_ms":0}});
    let log = log_record(&wire).unwrap();
    assert_eq!(
        attrs(&log)["args"],
        json!({"arrayValue": {"values": [{"stringValue": "--model"}, {"stringValue": "--yes"}]}})
    );
    assert_eq!(log["severityNumber"], 9);
    assert_eq!(log["severityText"], "INFO");
}

#[test]
fn tool_uses_gen_ai_names_and_tags_cannot_override_them() {
    let (telemetry, sink) = client_with_tags(HOSTILE_TAGS);
    let session = telemetry.start_session("planner");
    let failed = Outcome::failure("PermissionDenied");
    session.record_tool_call("read_file", Duration::from_millis(12), failed);
    let session_id = session.id().to_owned();
    session.end();
    let wire = &wire_records(&sink)[1];
    assert_eq!(wire["event"], "tool");
    let (log, a) = log_of(wire, "tool", "WARN");
    assert_attrs(
        &a,
        &[
            ("action", json!({"stringValue": "call"})),
            ("gen_ai.tool.name", json!({"stringValue": "read_file"})),
            ("duration_ms", json!({"intValue": "12"})),
            ("error.type", json!({"stringValue": "PermissionDenied"})),
        ],
    );
    assert_attrs(&a, &in_session(&session_id, "planner"));
    let names = keys(&log);
    for name in [
        "gen_ai.tool.name",
        "error.type",
        "gen_ai.conversation.id",
        "log.record.uid",
    ] {
        assert_eq!(names.iter().filter(|k| *k == name).count(), 1, "{name}");
    }
    // Neither the wire names nor the hostile tags survive as attributes.
    for gone in [
        "tool_name",
        "session_id",
        "agent_name",
        "service.name",
        "gen_ai.request.model",
        "cost",
    ] {
        assert!(!names.iter().any(|k| k == gone), "{gone} in {names:?}");
    }
    assert!(!log.to_string().contains("evil"), "{log}");
}

#[test]
fn token_maps_usage_and_cost_as_a_double() {
    let (telemetry, sink) = client_with_tags("gen_ai.usage.input_tokens=9,region=eu");
    telemetry.record_token_usage("gpt-4o", 1200, 300, 0.0125);
    telemetry.record_token_usage("gpt-4o", 1, 2, 0.0);
    let records = wire_records(&sink);
    let (_, a) = log_of(&records[0], "token", "INFO");
    assert_attrs(
        &a,
        &[
            ("action", json!({"stringValue": "usage"})),
            ("gen_ai.request.model", json!({"stringValue": "gpt-4o"})),
            ("region", json!({"stringValue": "eu"})),
        ],
    );
    assert_attrs(&a, &usage(1200, 300, 1500, 0.0125));
    // No session: an empty id or agent is left out, not sent as "".
    assert!(!a.contains_key("gen_ai.conversation.id"));
    assert!(!a.contains_key("gen_ai.agent.name"));
    // A zero cost stays a double.
    assert_eq!(
        attrs(&log_record(&records[1]).unwrap())["cost"],
        json!({"doubleValue": 0.0})
    );
    // A cost that a JSON line spells as an integer is still a double.
    let mut replayed = records[0].clone();
    replayed["properties"]["cost"] = json!(2);
    assert_eq!(
        attrs(&log_record(&replayed).unwrap())["cost"],
        json!({"doubleValue": 2.0})
    );
}

#[test]
fn session_start_and_end_carry_totals_and_the_list_of_error_kinds() {
    let (telemetry, sink) = client_with_tags("is_success=evil");
    let session = telemetry.start_session("root");
    session.record_tool_call("grep", Duration::ZERO, Outcome::failure("Timeout"));
    session.record_token_usage("m", 10, 5, 0.5);
    session.end();
    let records = wire_records(&sink);
    let (_, a) = log_of(&records[0], "session", "INFO");
    assert_eq!(a["action"], json!({"stringValue": "start"}));
    assert_eq!(a["gen_ai.agent.name"], json!({"stringValue": "root"}));
    assert!(!a.contains_key("is_success"));

    let (end, a) = log_of(&records[3], "session", "WARN");
    let kinds = json!([{"stringValue": "Timeout"}]);
    assert_attrs(
        &a,
        &[
            ("action", json!({"stringValue": "end"})),
            ("tool_calls", json!({"intValue": "1"})),
            ("error_count", json!({"intValue": "1"})),
            ("is_success", json!({"boolValue": false})),
            ("error", json!({"arrayValue": {"values": kinds}})),
        ],
    );
    assert_attrs(&a, &usage(10, 5, 15, 0.5));
    assert_attrs(&a, &in_session(&session_id(&records[0]), "root"));
    assert!(!a.contains_key("error.type"));
    assert!(!end.to_string().contains("evil"));
}

#[test]
fn resource_names_the_app_and_the_anonymous_id_never_a_user() {
    let (telemetry, sink) = client_with_tags("");
    telemetry.track_command("run", Vec::<String>::new());
    let wire = &wire_records(&sink)[0];
    let resource = resource(wire).unwrap();
    let a = attrs(&resource);
    assert_eq!(a["service.name"], json!({"stringValue": "otlp-test"}));
    assert_eq!(a["service.version"], json!({"stringValue": "2.3.4"}));
    assert_eq!(
        a["telemetry.anonymous_id"]["stringValue"],
        wire["properties"]["user_uuid"]
    );
    assert_eq!(a["telemetry.ci"]["boolValue"], wire["properties"]["ci"]);
    assert!(a.contains_key("os.type") && a.contains_key("host.arch"));
    assert!(!resource.to_string().contains("user.id"));
    // The common fields are on the resource only.
    let log = log_record(wire).unwrap();
    for common in ["user_uuid", "version", "os", "arch", "ci", "event_id"] {
        assert!(!keys(&log).iter().any(|k| k == common), "{common}");
    }
}

#[test]
fn os_and_arch_use_the_conventions_values() {
    let wire = |os: &str, arch: &str| {
        json!({"event":"command","event_timestamp":0,"source":"a",
               "properties":{"os":os,"arch":arch}})
    };
    let seen = |os, arch| {
        let a = attrs(&resource(&wire(os, arch)).unwrap());
        (
            a["os.type"]["stringValue"].as_str().unwrap().to_owned(),
            a["host.arch"]["stringValue"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(seen("linux", "x86_64"), ("linux".into(), "amd64".into()));
    assert_eq!(seen("macos", "aarch64"), ("darwin".into(), "arm64".into()));
    assert_eq!(seen("windows", "x86"), ("windows".into(), "x86".into()));
    assert_eq!(
        seen("freebsd", "riscv64"),
        ("freebsd".into(), "riscv64".into())
    );
}

#[test]
fn the_request_is_exactly_the_otlp_json_encoding() {
    let wire = json!({"event":"tool","event_timestamp":1795620628495_u64,"source":"agent",
        "properties":{"action":"call","tool_name":"read_file","session_id":"s1","agent_name":"",
        "duration_ms":7,"is_success":true,"team":"x","user_uuid":"u1","version":"1.0",
        "os":"linux","os_language":"en_US","arch":"aarch64","ci":true,"event_id":"e1"}});
    let sdk = env!("CARGO_PKG_VERSION");
    let expected = json!({"resourceLogs":[{
        "resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"agent"}},
            {"key":"service.version","value":{"stringValue":"1.0"}},
            {"key":"os.type","value":{"stringValue":"linux"}},
            {"key":"host.arch","value":{"stringValue":"arm64"}},
            {"key":"telemetry.anonymous_id","value":{"stringValue":"u1"}},
            {"key":"telemetry.os_language","value":{"stringValue":"en_US"}},
            {"key":"telemetry.ci","value":{"boolValue":true}},
            {"key":"telemetry.sdk.name","value":{"stringValue":"telemetry-core"}},
            {"key":"telemetry.sdk.language","value":{"stringValue":"rust"}},
            {"key":"telemetry.sdk.version","value":{"stringValue":sdk}}]},
        "scopeLogs":[{
            "scope":{"name":"telemetry-core","version":sdk},
            "logRecords":[{
                "timeUnixNano":"1795620628495000000",
                "severityNumber":9,
                "severityText":"INFO",
                "eventName":"tool",
                "attributes":[
                    {"key":"action","value":{"stringValue":"call"}},
                    {"key":"gen_ai.tool.name","value":{"stringValue":"read_file"}},
                    {"key":"gen_ai.conversation.id","value":{"stringValue":"s1"}},
                    {"key":"duration_ms","value":{"intValue":"7"}},
                    {"key":"is_success","value":{"boolValue":true}},
                    {"key":"team","value":{"stringValue":"x"}},
                    {"key":"log.record.uid","value":{"stringValue":"e1"}}]}],
            "schemaUrl":"https://opentelemetry.io/schemas/1.37.0"}],
        "schemaUrl":"https://opentelemetry.io/schemas/1.37.0"}]});
    assert_eq!(export_logs_request([&wire]), expected);
    // The exact text: 64-bit integers as strings, the enum as a number.
    let text = serde_json::to_string(&export_logs_request([&wire])).unwrap();
    assert!(
        text.contains(r#""timeUnixNano":"1795620628495000000""#),
        "{text}"
    );
    assert!(text.contains(r#""severityNumber":9,"#), "{text}");
    assert!(text.contains(r#"{"intValue":"7"}"#), "{text}");
}

#[test]
fn a_batch_groups_records_by_resource_in_order() {
    let (telemetry, sink) = client_with_tags("");
    telemetry.track_command("a", Vec::<String>::new());
    telemetry.track_command("b", Vec::<String>::new());
    let (other, other_sink) = client_with_tags("");
    other.track_command("c", Vec::<String>::new());
    let mut records = wire_records(&sink);
    records.extend(wire_records(&other_sink));
    let body = export_logs_request(&records);
    let groups = body["resourceLogs"].as_array().unwrap();
    // Without a config dir each client made its own anonymous id: two
    // resources, each with its records in order.
    let actions: Vec<Vec<String>> = groups
        .iter()
        .map(|group| {
            group["scopeLogs"][0]["logRecords"]
                .as_array()
                .unwrap()
                .iter()
                .map(|log| {
                    attrs(log)["action"]["stringValue"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect()
        })
        .collect();
    let flat: Vec<&String> = actions.iter().flatten().collect();
    assert_eq!(flat, ["a", "b", "c"]);
    assert_eq!(actions[0], ["a", "b"]);
}

#[test]
fn what_is_not_a_wire_record_is_left_out_and_nothing_panics() {
    let junk = [
        json!(null),
        json!(42),
        json!("text"),
        json!({}),
        json!({"event": 5}),
        json!({"event":"tool","event_timestamp":"soon","properties":"none"}),
        json!({"event":"session","event_timestamp":u64::MAX,"properties":{
            "duration_ms":-3,"input_tokens":u64::MAX,"cost":"free","args":"x",
            "error":{"nested":[1,null,2.5]},"is_success":"yes","tag":{"k":[true]}}}),
    ];
    for value in &junk[..5] {
        assert!(log_record(value).is_none(), "{value}");
        assert!(resource(value).is_none(), "{value}");
    }
    let body = export_logs_request(&junk);
    let logs = &body["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
    assert_eq!(logs.as_array().unwrap().len(), 2);
    assert_eq!(logs[0]["timeUnixNano"], "0");
    assert_eq!(logs[1]["timeUnixNano"], u64::MAX.to_string());
    let a = attrs(&logs[1]);
    assert_eq!(a["duration_ms"], json!({"intValue": "-3"}));
    assert_eq!(
        a["gen_ai.usage.input_tokens"],
        json!({"intValue": i64::MAX.to_string()})
    );
    assert!(!a.contains_key("cost") && !a.contains_key("is_success"));
    assert_eq!(
        a["tag"],
        json!({"kvlistValue": {"values": [{"key": "k", "value":
            {"arrayValue": {"values": [{"boolValue": true}]}}}]}})
    );
}

#[test]
fn a_tool_summary_is_one_log_record_with_the_same_attributes() {
    let sink = MemorySink::new();
    let telemetry = Telemetry::isolated("otlp-test", "2.3.4")
        .sink(sink.clone())
        .env_vars([(
            "TELEMETRY_TAGS",
            "calls=evil,error_kinds=evil,sample_rate=evil",
        )])
        .tool_rollup(0)
        .build();
    let session = telemetry.start_session("root");
    for ms in [3, 9] {
        session.record_tool_call(
            "search_web",
            Duration::from_millis(ms),
            Outcome::failure("NotFound"),
        );
    }
    session.record_tool_call("search_web", Duration::from_millis(1), Outcome::Success);
    session.end();
    let records = wire_records(&sink);
    assert_eq!(records[1]["event"], "tool_summary");
    let (log, a) = log_of(&records[1], "tool_summary", "INFO");
    let kinds = json!([{"key": "NotFound", "value": {"intValue": "2"}}]);
    assert_attrs(
        &a,
        &[
            ("gen_ai.tool.name", json!({"stringValue": "search_web"})),
            ("calls", json!({"intValue": "3"})),
            ("errors", json!({"intValue": "2"})),
            ("error_kinds", json!({"kvlistValue": {"values": kinds}})),
            ("duration_ms_total", json!({"intValue": "13"})),
            ("duration_ms_max", json!({"intValue": "9"})),
        ],
    );
    assert_attrs(&a, &in_session(&session_id(&records[0]), "root"));
    assert!(!a.contains_key("sample_rate"));
    assert!(!log.to_string().contains("evil"));
}

fn session_id(record: &Value) -> String {
    record["properties"]["session_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_client_report_maps_its_counts_and_sample_rate_is_a_double() {
    let wire = json!({"event":"client_report","event_timestamp":1_700_000_000_000_u64,
        "source":"a","properties":{"dropped":{"cap":42,"rejected":3},"user_uuid":"u",
        "version":"1","os":"linux","os_language":"","arch":"x86_64","ci":false,
        "sample_rate":0.25,"event_id":"e"}});
    let log = log_record(&wire).unwrap();
    assert_eq!(log["eventName"], "client_report");
    let a = attrs(&log);
    assert_eq!(
        a["dropped"],
        json!({"kvlistValue": {"values": [
            {"key": "cap", "value": {"intValue": "42"}},
            {"key": "rejected", "value": {"intValue": "3"}}]}})
    );
    assert_eq!(a["sample_rate"], json!({"doubleValue": 0.25}));
    assert_eq!(
        keys(&log),
        ["dropped", "sample_rate", "log.record.uid"],
        "nothing else"
    );
}
