//! Interop with a real OpenTelemetry Collector: the `agent` example, run with
//! `--export otlp`, sends to the collector built by `otelcol/build.sh`, which
//! writes what it received to a JSON-lines file; every record is read back
//! from that file with the expected attributes.
//!
//! Ignored by `cargo test --workspace` (it needs the Go-built collector);
//! `.ci/run` builds the collector, then runs it:
//!
//! ```sh
//! OTELCOL_CACHE=$PWD/target/otelcol otelcol/build.sh
//! cargo test --test e2e otlp_interop -- --ignored
//! ```
//!
//! `OTELCOL_BIN` names another collector binary. Without one the test fails
//! and says how to build it.

use serde_json::Value;
use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use telemetry_test_support::agent::{stderr, Agent, AGENT_VERSION};

const PROMPT: &str = "plan my trip to the secret island";

/// The collector binary: `$OTELCOL_BIN`, else where `otelcol/build.sh` puts
/// it with `OTELCOL_CACHE=target/otelcol`.
fn collector_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = std::env::var_os("OTELCOL_BIN").map_or_else(
        || root.join("target/otelcol/bin/otelcol-interop"),
        PathBuf::from,
    );
    assert!(
        binary.is_file(),
        "no OpenTelemetry Collector at {}: build it first with \
         `OTELCOL_CACHE=$PWD/target/otelcol otelcol/build.sh` (needs Go >= 1.26 and the Go \
         module proxy; see otelcol/README.md), or set OTELCOL_BIN",
        binary.display()
    );
    binary
}

/// A running collector, killed (by its own handle) on drop.
struct OtelCollector {
    child: Child,
    port: u16,
    output: PathBuf,
    log: PathBuf,
}

impl OtelCollector {
    fn start(dir: &Path) -> OtelCollector {
        let binary = collector_binary();
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("otelcol/config.yaml");
        // A free port: bind, read it, release it.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let output = dir.join("otlp-out.jsonl");
        let log = dir.join("collector.log");
        let log_file = std::fs::File::create(&log).expect("the collector's log file");
        let child = Command::new(&binary)
            .arg(format!("--config=file:{}", config.display()))
            .env("OTELCOL_HTTP_ENDPOINT", format!("127.0.0.1:{port}"))
            .env("OTELCOL_FILE", &output)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file handle"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|error| panic!("{} does not start: {error}", binary.display()));
        let mut collector = OtelCollector {
            child,
            port,
            output,
            log,
        };
        collector.wait_until_listening();
        collector
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the collector exited ({status}) before listening:\n{}",
                    self.log_text()
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "the collector did not listen on 127.0.0.1:{} within 20 s:\n{}",
            self.port,
            self.log_text()
        );
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Every log record in the file exporter's output, with its resource's
    /// attributes, once at least `count` are there (the exporter flushes
    /// every 100 ms).
    fn wait_for_logs(&self, count: usize) -> Vec<(Value, Value)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let logs = self.logs();
            if logs.len() >= count || Instant::now() >= deadline {
                return logs;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn logs(&self) -> Vec<(Value, Value)> {
        let text = std::fs::read_to_string(&self.output).unwrap_or_default();
        let mut logs = Vec::new();
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let Ok(request) = serde_json::from_str::<Value>(line) else {
                continue; // a line still being written
            };
            for resource_logs in request["resourceLogs"].as_array().into_iter().flatten() {
                let resource = attributes(&resource_logs["resource"]);
                for scope_logs in resource_logs["scopeLogs"].as_array().into_iter().flatten() {
                    for log in scope_logs["logRecords"].as_array().into_iter().flatten() {
                        logs.push((resource.clone(), log.clone()));
                    }
                }
            }
        }
        logs
    }
}

impl Drop for OtelCollector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `attributes` as one JSON object: key → the `AnyValue`.
fn attributes(object: &Value) -> Value {
    let mut map = serde_json::Map::new();
    for kv in object["attributes"].as_array().into_iter().flatten() {
        if let Some(key) = kv["key"].as_str() {
            map.insert(key.to_owned(), kv["value"].clone());
        }
    }
    Value::Object(map)
}

fn string(value: &str) -> Value {
    serde_json::json!({ "stringValue": value })
}

fn int(value: u64) -> Value {
    serde_json::json!({ "intValue": value.to_string() })
}

/// The `log.record.uid`s of the records the agent's debug lines show as sent.
fn sent_uids(output: &std::process::Output) -> BTreeSet<String> {
    stderr(output)
        .lines()
        .filter_map(|line| line.strip_prefix("[telemetry] "))
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .flat_map(|request| {
            let logs = request["resourceLogs"][0]["scopeLogs"][0]["logRecords"].clone();
            logs.as_array().cloned().unwrap_or_default()
        })
        .filter_map(|log| {
            attributes(&log)["log.record.uid"]["stringValue"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[test]
#[ignore = "needs the OpenTelemetry Collector built by otelcol/build.sh (Go); .ci/run runs it"]
fn the_agent_s_records_arrive_in_a_real_collector_with_their_attributes() {
    let dir = std::env::temp_dir().join(format!("telemetry-otlp-interop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let collector = OtelCollector::start(&dir);

    let agent = Agent::after_first_run(&collector.url());
    // Gzipped bodies (OTLP's default, asked for here by name): the
    // collector inflates them.
    let run = agent.run_ok(
        &[
            "--debug",
            "--export",
            "otlp",
            "--compress",
            "gzip",
            "run",
            "--model",
            "gpt-4o-mini",
            PROMPT,
        ],
        &[],
    );
    let fail = agent.run(&["--export", "otlp", "--debug", "fail"]);
    assert_eq!(fail.status.code(), Some(1), "{fail:?}");
    let mut sent = sent_uids(&run);
    sent.extend(sent_uids(&fail));
    // run: session start, 3 tools, 2 token usages, session end, command;
    // fail: the command.
    assert_eq!(sent.len(), 9, "{}", stderr(&run));
    assert!(
        !stderr(&run).contains("not sent") && !stderr(&run).contains("not accepted"),
        "{}",
        stderr(&run)
    );

    let logs = collector.wait_for_logs(sent.len());
    let received: BTreeSet<String> = logs
        .iter()
        .filter_map(|(_, log)| {
            attributes(log)["log.record.uid"]["stringValue"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(received, sent, "every record, once: {logs:#?}");
    assert_eq!(logs.len(), sent.len());

    let uuid = std::fs::read_to_string(agent.config_dir().join("user-uuid"))
        .expect("the agent's anonymous id")
        .trim()
        .to_owned();
    for (resource, log) in &logs {
        assert_eq!(resource["service.name"], string("agent"));
        assert_eq!(resource["service.version"], string(AGENT_VERSION));
        assert_eq!(resource["telemetry.anonymous_id"], string(&uuid));
        assert!(resource["os.type"]["stringValue"].is_string());
        assert!(resource["host.arch"]["stringValue"].is_string());
        assert!(resource.get("user.id").is_none());
        assert!(
            log["timeUnixNano"].as_str().is_some_and(|t| t.len() >= 19),
            "{log}"
        );
    }
    let events: Vec<(&str, Value)> = logs
        .iter()
        .map(|(_, log)| {
            (
                log["eventName"].as_str().unwrap_or_default(),
                attributes(log),
            )
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        ["session", "tool", "token", "tool", "tool", "token", "session", "command", "command"]
    );

    let tools: Vec<&Value> = events
        .iter()
        .filter(|(name, _)| *name == "tool")
        .map(|(_, a)| a)
        .collect();
    let tool_names: Vec<&Value> = tools.iter().map(|a| &a["gen_ai.tool.name"]).collect();
    assert_eq!(
        tool_names,
        [
            &string("plan_steps"),
            &string("read_file"),
            &string("search_web")
        ]
    );
    let conversation = &events[0].1["gen_ai.conversation.id"];
    assert!(conversation["stringValue"].is_string());
    for tool in &tools {
        assert_eq!(tool["gen_ai.agent.name"], string("root"));
        assert_eq!(&tool["gen_ai.conversation.id"], conversation);
        assert!(tool["duration_ms"]["intValue"].is_string());
    }
    assert_eq!(tools[2]["error.type"], string("NotFound"));
    assert_eq!(
        tools[2]["is_success"],
        serde_json::json!({"boolValue": false})
    );

    let token = &events[2].1;
    assert_eq!(token["gen_ai.request.model"], string("gpt-4o-mini"));
    assert_eq!(token["gen_ai.usage.input_tokens"], int(1200));
    assert_eq!(token["gen_ai.usage.output_tokens"], int(150));
    assert!(token["cost"]["doubleValue"].is_number(), "{token}");

    let end = &events[6].1;
    assert_eq!(end["action"], string("end"));
    assert_eq!(end["tool_calls"], int(3));
    assert_eq!(end["gen_ai.usage.input_tokens"], int(3000));
    assert_eq!(end["error_count"], int(1));
    assert_eq!(end["error"]["arrayValue"]["values"][0], string("NotFound"));
    assert_eq!(logs[6].1["severityText"], "WARN");

    let run_command = &events[7].1;
    assert_eq!(run_command["action"], string("run"));
    assert_eq!(
        run_command["args"],
        // Flag names only: `otlp`, `gzip` and the model's name are values.
        serde_json::json!({"arrayValue": {"values": [
            {"stringValue": "--debug"}, {"stringValue": "--export"},
            {"stringValue": "--compress"}, {"stringValue": "--model"}
        ]}})
    );
    assert_eq!(logs[7].1["severityText"], "INFO");
    assert_eq!(events[8].1["action"], string("fail"));
    assert_eq!(logs[8].1["severityNumber"], 13);

    // Nothing of the prompt reached the collector.
    let file = std::fs::read_to_string(&collector.output).unwrap_or_default();
    assert!(!file.contains("secret"), "{file}");
    drop(collector);
    let _ = std::fs::remove_dir_all(&dir);
}
