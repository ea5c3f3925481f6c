//! The published schema, `schema/records.schema.json` (JSON Schema
//! 2020-12): real bodies of every event kind, sent over HTTP to a loopback
//! collector, validate against it; a field the code sends that the schema
//! does not name fails.
//!
//! The validator is a small one for the subset of JSON Schema the file
//! uses (listed in `KEYWORDS`; a keyword outside it fails the test rather
//! than being ignored), so that no schema crate is built for one test.

use crate::common::scene;
use serde_json::{json, Map, Value};
use std::path::Path;
use std::time::Duration;
use telemetry_core::{Delivery, Outcome, Telemetry};

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/records.schema.json");
    let text = std::fs::read_to_string(&path).expect("schema/records.schema.json");
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// The keywords the validator knows; annotations are ignored.
const KEYWORDS: [&str; 17] = [
    "type",
    "required",
    "properties",
    "additionalProperties",
    "unevaluatedProperties",
    "items",
    "$ref",
    "oneOf",
    "allOf",
    "const",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "$defs",
    "$schema",
    "$id",
];
const ANNOTATIONS: [&str; 2] = ["title", "description"];

/// Every keyword of every subschema is one the validator knows.
fn assert_known_keywords(schema: &Value, at: &str) {
    let Some(object) = schema.as_object() else {
        return;
    };
    for (key, value) in object {
        assert!(
            KEYWORDS.contains(&key.as_str()) || ANNOTATIONS.contains(&key.as_str()),
            "{at}: the keyword {key} is not one this validator knows"
        );
        match key.as_str() {
            "properties" | "$defs" => {
                for (name, sub) in value.as_object().expect("an object of schemas") {
                    assert_known_keywords(sub, &format!("{at}/{key}/{name}"));
                }
            }
            "oneOf" | "allOf" => {
                for (index, sub) in value
                    .as_array()
                    .expect("a list of schemas")
                    .iter()
                    .enumerate()
                {
                    assert_known_keywords(sub, &format!("{at}/{key}/{index}"));
                }
            }
            "items" | "additionalProperties" | "unevaluatedProperties" => {
                assert_known_keywords(value, &format!("{at}/{key}"));
            }
            _ => {}
        }
    }
}

struct Validator<'a> {
    root: &'a Value,
    /// Tags are not expected: a property no schema names fails, whatever
    /// its type (the client of these tests has no tags).
    no_tags: bool,
}

impl Validator<'_> {
    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = reference
                    .strip_prefix("#/$defs/")
                    .unwrap_or_else(|| panic!("only local $refs: {reference}"));
                self.resolve(&self.root["$defs"][name])
            }
            None => schema,
        }
    }

    /// The property names `schema` evaluates: its `properties`, and those
    /// of its `allOf` and `$ref` subschemas.
    fn evaluated(&self, schema: &Value, names: &mut Vec<String>) {
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            names.extend(properties.keys().cloned());
        }
        if schema.get("$ref").is_some() {
            self.evaluated(self.resolve(schema), names);
        }
        for sub in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.evaluated(sub, names);
        }
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        if schema.get("$ref").is_some() {
            self.check(self.resolve(schema), value, at, errors);
        }
        if let Some(kind) = schema.get("type").and_then(Value::as_str) {
            let fits = match kind {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "integer" => value.is_u64() || value.is_i64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                "null" => value.is_null(),
                other => panic!("unknown type {other}"),
            };
            if !fits {
                errors.push(format!("{at}: not of type {kind}: {value}"));
                return;
            }
        }
        if let Some(constant) = schema.get("const") {
            if constant != value {
                errors.push(format!("{at}: {value} is not {constant}"));
            }
        }
        if let (Some(least), Some(number)) = (schema.get("minimum"), value.as_f64()) {
            if number < least.as_f64().unwrap_or(f64::MIN) {
                errors.push(format!("{at}: {number} is below {least}"));
            }
        }
        if let (Some(most), Some(number)) = (schema.get("maximum"), value.as_f64()) {
            if number > most.as_f64().unwrap_or(f64::MAX) {
                errors.push(format!("{at}: {number} is above {most}"));
            }
        }
        if let Some(text) = value.as_str() {
            let chars = text.chars().count() as u64;
            if schema
                .get("minLength")
                .and_then(Value::as_u64)
                .is_some_and(|n| chars < n)
            {
                errors.push(format!("{at}: {text:?} is too short"));
            }
            if schema
                .get("maxLength")
                .and_then(Value::as_u64)
                .is_some_and(|n| chars > n)
            {
                errors.push(format!("{at}: {text:?} is too long"));
            }
        }
        for sub in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.check(sub, value, at, errors);
        }
        if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
            let results: Vec<Vec<String>> = branches
                .iter()
                .map(|branch| {
                    let mut branch_errors = Vec::new();
                    self.check(branch, value, at, &mut branch_errors);
                    branch_errors
                })
                .collect();
            let matched = results.iter().filter(|found| found.is_empty()).count();
            if matched != 1 {
                let closest = results.iter().min_by_key(|found| found.len()).cloned();
                errors.push(format!(
                    "{at}: matches {matched} of oneOf, not 1; closest: {:?}",
                    closest.unwrap_or_default()
                ));
            }
        }
        if let Some(items) = schema.get("items") {
            for (index, item) in value.as_array().into_iter().flatten().enumerate() {
                self.check(items, item, &format!("{at}/{index}"), errors);
            }
        }
        if let Some(object) = value.as_object() {
            self.check_object(schema, object, at, errors);
        }
    }

    fn check_object(
        &self,
        schema: &Value,
        object: &Map<String, Value>,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().expect("required names are strings");
            if !object.contains_key(name) {
                errors.push(format!("{at}: {name} is missing"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, value) in object {
            let at = format!("{at}/{key}");
            if let Some(sub) = properties.and_then(|properties| properties.get(key)) {
                self.check(sub, value, &at, errors);
            } else if let Some(additional) = schema.get("additionalProperties") {
                self.check_rest(additional, value, &at, errors);
            }
        }
        if let Some(unevaluated) = schema.get("unevaluatedProperties") {
            let mut names = Vec::new();
            self.evaluated(schema, &mut names);
            for (key, value) in object {
                if !names.contains(key) {
                    let unevaluated = if self.no_tags {
                        &Value::Bool(false)
                    } else {
                        unevaluated
                    };
                    self.check_rest(unevaluated, value, &format!("{at}/{key}"), errors);
                }
            }
        }
    }

    /// `additionalProperties` / `unevaluatedProperties`: `false`, or a
    /// schema every such property must match.
    fn check_rest(&self, rest: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        match rest {
            Value::Bool(false) => errors.push(format!("{at}: not in the schema")),
            Value::Bool(true) => {}
            schema => self.check(schema, value, at, errors),
        }
    }
}

/// The reasons `body` does not fit the schema (none when it does).
fn violations(schema: &Value, body: &Value, no_tags: bool) -> Vec<String> {
    let validator = Validator {
        root: schema,
        no_tags,
    };
    let mut errors = Vec::new();
    validator.check(schema, body, "", &mut errors);
    errors
}

fn client(endpoint: &str, dir: &Path, delivery: Delivery) -> Telemetry {
    Telemetry::builder("schema-test", "1.0.0")
        .endpoint(endpoint)
        .config_dir(dir)
        .notice(false)
        .env(|_| None)
        .flags(["--model"])
        .delivery(delivery)
        .build()
}

/// Records one event of each kind the client makes (a command and a tool
/// both ways, a token usage, a session's start and end).
fn record_every_kind(telemetry: &Telemetry) {
    telemetry.track_command("run", ["--model", "x"]);
    let failed = Outcome::failure("NotFound");
    telemetry.record_tool_call("read_file", "", "", Duration::from_millis(3), failed);
    let session = telemetry.start_session("planner");
    session.record_tool_call("search", Duration::from_millis(5), Outcome::Success);
    session.record_token_usage("gpt-4o", 1200, 300, 0.0125);
    session.end();
}

/// Real bodies: inline (one record each) and background (one batch).
fn real_bodies() -> Vec<Value> {
    let (collector, dir, _) = scene("schema");
    let inline = client(&collector.url(), dir.path(), Delivery::Inline);
    record_every_kind(&inline);
    let background = client(&collector.url(), dir.path(), Delivery::Background);
    record_every_kind(&background);
    background.flush(Duration::from_secs(10));
    collector
        .requests()
        .iter()
        .map(|request| serde_json::from_slice(&request.body).expect("a JSON body"))
        .collect()
}

fn kind_of(record: &Value) -> String {
    let event = record["event"].as_str().unwrap_or_default();
    match event {
        "session" => format!(
            "session_{}",
            record["properties"]["action"].as_str().unwrap_or_default()
        ),
        other => other.to_owned(),
    }
}

/// The kinds the schema's `record` lists.
fn schema_kinds(schema: &Value) -> Vec<String> {
    schema["$defs"]["record"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|branch| {
            branch["$ref"]
                .as_str()
                .unwrap()
                .trim_start_matches("#/$defs/")
                .to_owned()
        })
        .collect()
}

/// Kinds that DESIGN.md describes and that other work makes (roll-ups and
/// client reports: the agent-loops issue; `telemetry delete`): until this
/// crate sends them, a record of each, built from a real record's envelope
/// and common fields with DESIGN.md's properties, stands in.
fn designed_records(real: &Value) -> Vec<Value> {
    let with = |event: &str, own: Value| {
        let mut record = real.clone();
        record["event"] = json!(event);
        let properties = record["properties"].as_object_mut().unwrap();
        for key in ["action", "args", "is_success", "duration_ms", "error"] {
            properties.remove(key);
        }
        properties.extend(own.as_object().unwrap().clone());
        record
    };
    vec![
        with(
            "tool_summary",
            json!({"tool_name": "read_file", "session_id": "", "agent_name": "",
                   "calls": 40, "errors": 2, "error_kinds": {"NotFound": 2},
                   "duration_ms_total": 120, "duration_ms_max": 9}),
        ),
        with(
            "client_report",
            json!({"dropped": {"backoff": 3, "batch_too_large": 1}}),
        ),
        with("deletion_request", json!({})),
    ]
}

#[test]
fn the_validator_knows_every_keyword_the_schema_uses() {
    let schema = schema();
    assert_known_keywords(&schema, "#");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

#[test]
fn real_bodies_of_every_kind_validate_against_the_published_schema() {
    let schema = schema();
    let bodies = real_bodies();
    let mut kinds: Vec<String> = Vec::new();
    let mut batched = false;
    for body in &bodies {
        let errors = violations(&schema, body, true);
        assert!(errors.is_empty(), "{errors:#?}\n{body:#}");
        let records = body["records"].as_array().unwrap();
        batched |= records.len() > 1;
        kinds.extend(records.iter().map(kind_of));
    }
    assert!(batched, "a background batch was validated too");
    let real = &bodies[0]["records"][0];
    let designed = designed_records(real);
    let body = json!({"records": designed, "sent_at": real["event_timestamp"]});
    let errors = violations(&schema, &body, true);
    assert!(errors.is_empty(), "{errors:#?}\n{body:#}");
    kinds.extend(designed.iter().map(kind_of));
    kinds.sort_unstable();
    kinds.dedup();
    let mut listed = schema_kinds(&schema);
    listed.sort_unstable();
    assert_eq!(kinds, listed, "every kind the schema lists is checked");
}

#[test]
fn a_field_the_schema_does_not_name_fails_and_tags_are_strings() {
    let schema = schema();
    let body = real_bodies().remove(0);
    assert!(violations(&schema, &body, true).is_empty());
    // A field added to the code but not to the schema.
    let mut added = body.clone();
    added["records"][0]["properties"]["new_field"] = json!("x");
    let errors = violations(&schema, &added, true);
    assert!(
        errors.iter().any(|error| error.contains("new_field")),
        "{errors:?}"
    );
    // Read as a tag (a backend's view), a string passes; a number does not.
    assert!(violations(&schema, &added, false).is_empty());
    added["records"][0]["properties"]["new_field"] = json!(1);
    assert!(!violations(&schema, &added, false).is_empty());
    // Each required piece is required.
    for pointer in [
        "/sent_at",
        "/records/0/properties/schema_version",
        "/records/0/properties/event_id",
    ] {
        let mut missing = body.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        missing
            .pointer_mut(if parent.is_empty() { "" } else { parent })
            .and_then(Value::as_object_mut)
            .unwrap()
            .remove(key);
        assert!(!violations(&schema, &missing, true).is_empty(), "{pointer}");
    }
    let mut wrong_version = body;
    wrong_version["records"][0]["properties"]["schema_version"] = json!(2);
    assert!(!violations(&schema, &wrong_version, true).is_empty());
}

#[test]
fn the_docs_link_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let docs = std::fs::read_dir(root.join("docs")).unwrap();
    let linked = docs.filter_map(Result::ok).any(|entry| {
        std::fs::read_to_string(entry.path())
            .is_ok_and(|text| text.contains("schema/records.schema.json"))
    });
    assert!(linked, "a page in docs/ links schema/records.schema.json");
}
