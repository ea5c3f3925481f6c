//! Retention keeps the per-day figures: records that arrive already past
//! retention, and records stored raw then expired at start, answer the
//! same views as the raw records did (percentiles within 10%), and leave
//! no raw record.

use crate::generator::{self, DAYS, START_MS};
use crate::harness::{exported, Collector};
use crate::model::{self, assert_matches, Model};
use serde_json::{json, Value};

/// Compares percentiles within 10%, everything else exactly.
fn assert_close(view: &str, answer: &Value, expected: &Value) {
    fn split(value: &Value, out: &mut Vec<(String, f64)>, path: &str) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, item)| {
                        let here = format!("{path}.{key}");
                        if key.starts_with('p') && key.ends_with("_ms") {
                            out.push((here, item.as_f64().unwrap_or(-1.0)));
                            (key.clone(), Value::Null)
                        } else {
                            (key.clone(), split(item, out, &here))
                        }
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| split(item, out, &format!("{path}[{i}]")))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    let (mut got, mut want) = (Vec::new(), Vec::new());
    let answer_rest = split(answer, &mut got, "");
    let expected_rest = split(expected, &mut want, "");
    assert_matches(view, &answer_rest, &expected_rest);
    assert_eq!(got.len(), want.len());
    for ((path, got), (_, want)) in got.iter().zip(&want) {
        assert!(
            (got - want).abs() <= 0.1 * want.abs().max(10.0),
            "{view} {path}: {got} vs {want}"
        );
    }
}

fn check_views(collector: &Collector, records: &[Value]) {
    let first = START_MS / 86_400_000;
    for app in ["alpha", "beta"] {
        let model = Model::new(records, app, first, first + DAYS - 1);
        // Sessions are not kept past retention.
        for view in model::views().filter(|view| *view != "sessions") {
            let answer = collector.view_ok(view, &model.query());
            assert_close(view, &answer, &model.view(view));
        }
        let model = Model::new(records, app, first + 3, first + 6);
        let answer = collector.view_ok("versions", &model.query());
        assert_close("versions", &answer, &model.versions());
    }
    let of_version = model::having(records, "version", &json!("2.0.0"));
    let model = Model::new(&of_version, "alpha", first, first + DAYS - 1);
    let query = format!("{}&version=2.0.0", model.query());
    for view in ["tools", "errors"] {
        assert_close(view, &collector.view_ok(view, &query), &model.view(view));
    }
}

#[test]
fn records_arriving_past_retention_are_counted_not_stored() {
    let records = generator::records(0xa9e, 1_500);
    let collector = Collector::start(&["--retention-days", "30"]);
    for (index, chunk) in records.chunks(100).enumerate() {
        assert_eq!(
            collector.post_records(chunk),
            (200, json!({"accepted": chunk.len(), "rejected": 0}))
        );
        if index % 3 == 0 {
            // A resend of folded records is not counted twice.
            assert_eq!(collector.post_records(chunk).0, 200);
        }
    }
    assert!(exported(&collector.db).is_empty(), "no raw record kept");
    check_views(&collector, &records);
}

#[test]
fn raw_records_past_retention_are_folded_at_start_and_forget_still_applies() {
    let records = generator::records(0xb0b, 1_500);
    let collector = Collector::start(&["--retention-days", "0"]);
    for chunk in records.chunks(100) {
        assert_eq!(collector.post_records(chunk).0, 200);
    }
    assert_eq!(exported(&collector.db).len(), records.len());
    let (_, dir, db) = collector.stop();
    let collector = Collector::start_on(dir, db, &["--retention-days", "30"]);
    assert!(exported(&collector.db).is_empty(), "expired at start");
    check_views(&collector, &records);
    // A deletion request still removes the install from the aggregates' ids.
    let gone = records
        .iter()
        .find(|r| r["source"] == "alpha" && r["properties"]["ephemeral_id"] != true)
        .unwrap()["properties"]["user_uuid"]
        .clone();
    let deletion = json!({"event":"deletion_request","event_timestamp": START_MS,"source":"alpha",
                          "properties":{"user_uuid": gone, "event_id":"del-1"}});
    assert_eq!(collector.post_records(&[deletion]).0, 200);
    let (_, dir, db) = collector.stop();
    let connection = rusqlite::Connection::open(&db).unwrap();
    for table in ["records", "installs", "agg_active", "agg_error_installs"] {
        let left: i64 = connection
            .query_row(
                &format!("SELECT count(*) FROM {table} WHERE app = 'alpha' AND uid = ?1"),
                [gone.as_str().unwrap()],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(left, 0, "{table}");
    }
    drop(dir);
}
