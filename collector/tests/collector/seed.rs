//! A seeded set of wire records over the last ten days: two versions, two
//! OSes, commands that succeed and fail, tools with error kinds, token use
//! on two models, sessions, a client report; every view has data.

use crate::harness::Collector;
use serde_json::{json, Value};
use telemetry_collector::overview::calendar::Day;

/// The app the records come from.
pub const APP: &str = "agent";

/// A second app, for the app chooser.
pub const OTHER_APP: &str = "other-tool";

/// Posts the records to the collector's `/v1/events`, in batches.
pub fn send(collector: &Collector, today: Day) {
    post_all(collector, &records(today));
}

/// Posts two command records of [`OTHER_APP`], today.
pub fn send_other_app(collector: &Collector, today: Day) {
    let records: Vec<Value> = (0..2)
        .map(|n| {
            json!({"event": "command", "source": OTHER_APP,
                   "event_timestamp": today.days_since_epoch() * 86_400_000 + 1000 * n,
                   "properties": {"action": "sync", "is_success": true, "duration_ms": 40 + n,
                                  "user_uuid": "00000000-0000-4000-8000-00000000aaaa", "version": "2.0.0",
                                  "os": "linux", "arch": "x86_64", "ci": false, "event_id": format!("other-{n}")}})
        })
        .collect();
    post_all(collector, &records);
}

fn post_all(collector: &Collector, records: &[Value]) {
    for batch in records.chunks(50) {
        let (status, answer) = collector.post_records(batch);
        assert_eq!(status, 200, "seeding: {answer}");
    }
}

fn records(today: Day) -> Vec<Value> {
    let mut records = Vec::new();
    let mut next = 0u64;
    let mut record = |event: &str, day: i64, install: u64, properties: Value| {
        next += 1;
        let version = if install % 3 == 0 || day > 6 {
            "0.9.0"
        } else {
            "1.0.0"
        };
        let (os, arch) = if install % 2 == 0 {
            ("linux", "x86_64")
        } else {
            ("macos", "aarch64")
        };
        let ci = install == 5;
        let mut properties = properties;
        let common = json!({
            "user_uuid": format!("00000000-0000-4000-8000-{install:012}"),
            "version": version, "os": os, "os_language": "en", "arch": arch, "ci": ci,
            "ci_provider": if ci { "github_actions" } else { "" },
            "ai_agent": if install == 4 { "claude_code" } else { "" },
            "event_id": format!("seed-{next}"), "schema_version": 1
        });
        for (key, value) in common.as_object().unwrap() {
            properties[key] = value.clone();
        }
        let day_start = (today.plus(-day).days_since_epoch()) * 86_400_000;
        records.push(json!({
            "event": event,
            "event_timestamp": day_start + 3_600_000 + i64::try_from(next).unwrap() * 1000,
            "source": APP,
            "properties": properties,
        }));
    };
    for day in 0..10i64 {
        for install in 0..(3 + (10 - day) as u64 / 2) {
            let session = format!("s-{day}-{install}");
            record(
                "command",
                day,
                install,
                json!({"action": "run", "args": ["--model"], "is_success": true, "duration_ms": 100 + 37 * install + 11 * day as u64}),
            );
            if (day + install as i64) % 4 == 0 {
                record(
                    "command",
                    day,
                    install,
                    json!({"action": "fail", "args": [], "is_success": false, "duration_ms": 3, "error": "Other"}),
                );
            }
            record(
                "session",
                day,
                install,
                json!({"action": "start", "session_id": session, "agent_name": "root"}),
            );
            for call in 0..3u64 {
                let failed = (call + install + day as u64) % 5 == 0;
                let mut tool = json!({"action": "call", "tool_name": if call == 2 { "web_search" } else { "read_file" },
                    "session_id": session, "agent_name": "root", "duration_ms": 4 + call * 150 + install, "is_success": !failed});
                if failed {
                    tool["error"] = json!(if call == 2 { "timeout" } else { "NotFound" });
                }
                record("tool", day, install, tool);
            }
            let model = if install % 2 == 0 {
                "gpt-4o"
            } else {
                "claude-sonnet"
            };
            let (input, output) = (1000 + 100 * install, 250 + 10 * day as u64);
            record(
                "token",
                day,
                install,
                json!({"action": "usage", "session_id": session, "agent_name": "root", "model_name": model,
                "input_tokens": input, "output_tokens": output, "total_tokens": input + output, "cost": 0.0125}),
            );
            record(
                "session",
                day,
                install,
                json!({"action": "end", "session_id": session, "agent_name": "root",
                "duration_ms": 2000 + 300 * install, "tool_calls": 3, "input_tokens": input, "output_tokens": output,
                "total_tokens": input + output, "cost": 0.0125, "error_count": 0, "is_success": true, "error": []}),
            );
        }
    }
    record("client_report", 1, 1, json!({"dropped": {"queue_full": 2}}));
    records
}
