//! A seeded generator's records sent as wire, OTLP and gzip, part of them
//! twice: every view equals the values computed independently here
//! (`model`), and `export` equals the distinct records sent.

use crate::generator::{self, DAYS, START_MS};
use crate::harness::{exported, gzip, request, strings, Collector};
use crate::model::{self, assert_matches, day_text, Model};
use serde_json::{json, Value};

fn send(collector: &Collector, chunk: &[Value], way: usize) {
    let (path, body) = if way % 2 == 0 {
        ("/v1/events", json!({ "records": chunk }).to_string())
    } else {
        (
            "/v1/logs",
            telemetry_core::otlp::export_logs_request(chunk).to_string(),
        )
    };
    let (status, answer) = if way % 4 >= 2 {
        collector.post(
            path,
            &gzip(body.as_bytes()),
            &[("Content-Encoding", "gzip")],
        )
    } else {
        collector.post(path, body.as_bytes(), &[])
    };
    assert_eq!(status, 200, "{answer}");
    if path == "/v1/events" {
        assert_eq!(answer, json!({"accepted": chunk.len(), "rejected": 0}));
    } else {
        assert_eq!(answer, json!({}));
    }
}

/// The two lists hold the same records (as JSON values), in any order;
/// else names one that differs.
fn assert_same_records(got: &[Value], sent: &[Value]) {
    let key = |record: &Value| record.to_string();
    let got: std::collections::BTreeMap<String, &Value> = got.iter().map(|r| (key(r), r)).collect();
    let sent: std::collections::BTreeMap<String, &Value> =
        sent.iter().map(|r| (key(r), r)).collect();
    if let Some((_, missing)) = sent.iter().find(|(k, _)| !got.contains_key(*k)) {
        let id = &missing["properties"]["event_id"];
        let near = got.values().find(|r| &r["properties"]["event_id"] == id);
        panic!("sent but not stored as sent: {missing}\nstored: {near:?}");
    }
    assert_eq!(got.len(), sent.len());
}

#[test]
fn views_equal_an_independent_computation_over_wire_otlp_and_gzip_with_resends() {
    let records = generator::records(0x5eed, 3_000);
    let collector = Collector::start(&[]);
    for (index, chunk) in records.chunks(50).enumerate() {
        send(&collector, chunk, index);
        if index % 4 == 1 {
            // A resend, in another encoding and format: one row per id.
            send(&collector, chunk, index + 1);
        }
    }
    // The same records again in one gzip OTLP body: nothing changes.
    send(&collector, &records[..500], 3);

    let first = START_MS / 86_400_000;
    let (from, to) = (day_text(first), day_text(first + DAYS - 1));
    let full = format!("from={from}&to={to}");
    for app in ["alpha", "beta"] {
        let model = Model::new(&records, app, first, first + DAYS - 1);
        for view in model::views() {
            let answer = collector.view_ok(view, &model.query());
            assert_eq!(
                (&answer["app"], &answer["from"], &answer["to"]),
                (&json!(app), &json!(from), &json!(to))
            );
            assert_matches(view, &answer, &model.view(view));
        }
        // A shorter range: days 3 to 5.
        let model = Model::new(&records, app, first + 2, first + 4);
        for view in ["daily", "tools", "errors"] {
            let answer = collector.view_ok(view, &model.query());
            assert_matches(view, &answer, &model.view(view));
        }
    }

    // Filters: the records of one version, and CI runs only.
    for (view, key, value, filter) in [
        ("commands", "version", json!("1.1.0"), "version=1.1.0"),
        ("tokens", "ci", json!(true), "ci=true"),
    ] {
        let chosen = model::having(&records, key, &value);
        let model = Model::new(&chosen, "alpha", first, first + DAYS - 1);
        let answer = collector.view_ok(view, &format!("{}&{filter}", model.query()));
        assert_matches(view, &answer, &model.view(view));
    }

    // apps: both, by name.
    let apps = collector.view_ok("apps", &full);
    let apps = apps["apps"].as_array().unwrap();
    assert_eq!(strings(apps, "/app"), ["alpha", "beta"]);
    for entry in apps {
        let model = Model::new(
            &records,
            entry["app"].as_str().unwrap(),
            first,
            first + DAYS - 1,
        );
        let installs: std::collections::BTreeSet<&str> = model
            .records
            .iter()
            .filter(|r| r["properties"]["ephemeral_id"] != true)
            .map(|r| r["properties"]["user_uuid"].as_str().unwrap())
            .collect();
        assert_eq!(entry["installs"], json!(installs.len()));
        let weighted: f64 = model
            .records
            .iter()
            .map(|r| match r["properties"]["sample_rate"].as_f64() {
                Some(rate) if rate < 1.0 => 1.0 / rate,
                _ => 1.0,
            })
            .sum();
        assert_eq!(entry["records"], json!(weighted.round() as i64));
    }

    // export: the distinct records sent, each equal to what was sent.
    let exported = exported(&collector.db);
    assert_eq!(exported.len(), records.len());
    assert_same_records(&exported, &records);
    let stamps: Vec<i64> = exported
        .iter()
        .map(|r| r["event_timestamp"].as_i64().unwrap())
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] <= w[1]),
        "ordered by event_timestamp"
    );

    // records: the same, as JSON and as lines.
    let answer = collector.view_ok("records", &format!("app=beta&{full}"));
    let beta: Vec<Value> = records
        .iter()
        .filter(|r| r["source"] == "beta")
        .cloned()
        .collect();
    assert_same_records(answer["records"].as_array().unwrap(), &beta);
    let lines = request(
        collector.addr,
        "GET",
        &format!("/api/v1/records?app=beta&{full}&format=ndjson"),
        b"",
        &[],
    );
    assert_eq!(lines.status, 200);
    let lines: Vec<Value> = String::from_utf8(lines.body)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines, answer["records"].as_array().unwrap().clone());
}

#[test]
fn app_choice_unknown_views_and_empty_ranges() {
    let collector = Collector::start(&[]);
    let record = |app: &str, id: &str| {
        json!({"event":"command","event_timestamp": START_MS,"source": app,
               "properties":{"action":"run","is_success":true,"duration_ms":5,"user_uuid":"u","event_id": id}})
    };
    // One app: it may be left out.
    assert_eq!(collector.post_records(&[record("one", "1")]).0, 200);
    let day = day_text(START_MS / 86_400_000);
    let answer = collector.view_ok("commands", &format!("from={day}&to={day}"));
    assert_eq!(answer["app"], "one");
    assert_eq!(answer["commands"][0]["calls"], 1);
    // Two apps: 400 listing them.
    assert_eq!(collector.post_records(&[record("two", "2")]).0, 200);
    let (status, answer) = collector.view("daily", "");
    assert_eq!(status, 400);
    assert_eq!(answer["apps"], json!(["one", "two"]));
    assert!(answer["error"].as_str().unwrap().contains("app="));
    // Unknown view, bad parameters.
    assert_eq!(collector.view("nope", "app=one").0, 404);
    assert_eq!(collector.view("daily", "app=one&from=2026-02-30").0, 400);
    assert_eq!(collector.view("daily", "app=one&ci=maybe").0, 400);
    // An app with nothing in range: zeros and empty lists, a day for each day.
    let answer = collector.view_ok("daily", "app=none&from=2026-03-01&to=2026-03-03");
    let days = answer["days"].as_array().unwrap();
    assert_eq!(days.len(), 3);
    assert_eq!(
        days[0],
        json!({"day":"2026-03-01","active_installs":0,"new_installs":0,"records":0,"dropped":{}})
    );
    for (view, key) in [
        ("commands", "commands"),
        ("tools", "tools"),
        ("errors", "errors"),
        ("tokens", "models"),
        ("versions", "versions"),
        ("records", "records"),
    ] {
        assert_eq!(
            collector.view_ok(view, "app=none")[key],
            json!([]),
            "{view}"
        );
    }
    assert_eq!(
        collector.view_ok("sessions", "app=none")["sessions"]["count"],
        0
    );
    // Default range: the 30 days ending today.
    let answer = collector.view_ok("daily", "app=one");
    assert_eq!(answer["days"].as_array().unwrap().len(), 30);
}
