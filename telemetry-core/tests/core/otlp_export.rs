//! The OTLP sink against real loopback servers: what it posts, and every
//! fault the default sink is tested against (refused, blackhole, 5xx, 429
//! with `Retry-After`, garbage), plus OTLP's partial success.
//!
//! `Scripted` is a real HTTP/1.1 server on 127.0.0.1 that answers each
//! request with the next scripted response (OTLP answers carry bodies and
//! headers that the test support's loopback collector does not send); the
//! blackhole and garbage servers are that collector's.

use crate::common::assert_says;
use serde_json::Value;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use telemetry_core::{
    Delivery, Export, Flushed, MemorySink, OtlpSink, Outcome, Record, SendError, Sink, Telemetry,
};
use telemetry_test_support::collector::{Behaviour, Collector};
use telemetry_test_support::net::refused_addr;
use telemetry_test_support::{isolated, MemoryWriter};

/// One request as the scripted server read it.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON, inflated first when it came gzipped (the OTLP
    /// sink's default).
    fn json(&self) -> Value {
        let body = if self.header("content-encoding") == Some("gzip") {
            let mut inflated = Vec::new();
            std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(&self.body[..]),
                &mut inflated,
            )
            .expect("a gzip body");
            inflated
        } else {
            self.body.clone()
        };
        serde_json::from_slice(&body).expect("the body is JSON")
    }
}

#[derive(Default)]
struct Script {
    answers: VecDeque<String>,
    seen: Vec<Seen>,
}

/// A loopback HTTP/1.1 server answering from a script; 200
/// `{"partialSuccess":{}}` (what a collector says) once the script is done.
struct Scripted {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    stopping: Arc<AtomicBool>,
}

fn answer(status: u16, extra_headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\n{extra_headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

impl Scripted {
    fn start(answers: impl IntoIterator<Item = String>) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let script = Arc::new(Mutex::new(Script {
            answers: answers.into_iter().collect(),
            seen: Vec::new(),
        }));
        let stopping = Arc::new(AtomicBool::new(false));
        let (script_for_thread, stop) = (Arc::clone(&script), Arc::clone(&stopping));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let script = Arc::clone(&script_for_thread);
                std::thread::spawn(move || serve(stream, &script));
            }
        });
        Scripted {
            addr,
            script,
            stopping,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: TcpStream, script: &Mutex<Script>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let target = line.split(' ').nth(1).unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let length = headers
            .iter()
            .find(|(name, _)| name == "content-length")
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let reply = {
            let mut script = script.lock().unwrap_or_else(PoisonError::into_inner);
            script.seen.push(Seen {
                target,
                headers,
                body,
            });
            script
                .answers
                .pop_front()
                .unwrap_or_else(|| answer(200, "", r#"{"partialSuccess":{}}"#))
        };
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// Wire records from a real client, to hand to an `OtlpSink` directly.
fn records(count: usize) -> Vec<Record> {
    let memory = MemorySink::new();
    let telemetry = isolated("otlp-faults", "1.0.0")
        .sink(memory.clone())
        .build();
    for n in 0..count {
        telemetry.record_tool_call(
            format!("tool_{n}"),
            "",
            "",
            Duration::from_millis(3),
            Outcome::Success,
        );
    }
    memory.records()
}

fn sink(url: &str, timeout: Duration) -> OtlpSink {
    OtlpSink::new(url, "otlp-faults/1.0.0", None, timeout).unwrap()
}

fn client(url: &str, log: &MemoryWriter, env: &[(&str, &str)]) -> Telemetry {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    Telemetry::builder("otlp-faults", "1.0.0")
        .endpoint(url)
        .export(Export::Otlp)
        .api_key("sk-otlp-key")
        .timeout(Duration::from_secs(2))
        .notice(false)
        .debug(true)
        .debug_writer(log.clone())
        .env_vars(env)
        .build()
}

#[test]
fn each_record_is_posted_as_an_otlp_logs_request_to_v1_logs() {
    let server = Scripted::start([]);
    let log = MemoryWriter::new();
    let telemetry = client(
        &format!("{}/", server.url()),
        &log,
        &[("TELEMETRY_TAGS", "team=core")],
    );
    telemetry.record_tool_call(
        "read_file",
        "",
        "",
        Duration::from_millis(4),
        Outcome::Success,
    );
    telemetry.record_token_usage("gpt-4o", 10, 2, 0.5);

    let seen = server.seen();
    assert_eq!(seen.len(), 2, "one request per record, inline");
    let request = &seen[0];
    assert_eq!(request.target, "/v1/logs");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("user-agent"), Some("otlp-faults/1.0.0"));
    assert_eq!(request.header("x-api-key"), Some("sk-otlp-key"));
    let body = request.json();
    let resource = &body["resourceLogs"][0]["resource"];
    assert_eq!(resource["attributes"][0]["key"], "service.name");
    assert_eq!(
        resource["attributes"][0]["value"]["stringValue"],
        "otlp-faults"
    );
    let logs = body["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
        .as_array()
        .unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["eventName"], "tool");
    assert!(logs[0]["timeUnixNano"].is_string());
    // Gzipped, as the OTLP sink sends by default.
    assert_eq!(request.header("content-encoding"), Some("gzip"));
    let text = body.to_string();
    assert!(text.contains(r#"{"key":"gen_ai.tool.name","value":{"stringValue":"read_file"}}"#));
    assert!(text.contains(r#"{"key":"team","value":{"stringValue":"core"}}"#));
    assert_eq!(
        seen[1].json()["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["eventName"],
        "token"
    );

    // Debug mode shows each request as sent, and never the key.
    let shown = log.text();
    let line = shown
        .lines()
        .filter_map(|line| line.strip_prefix("[telemetry] "))
        .find(|line| line.starts_with('{'))
        .unwrap();
    let shown_body: Value = serde_json::from_str(line).unwrap();
    assert_eq!(
        shown_body["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["eventName"],
        "tool"
    );
    assert!(!shown.contains("sk-otlp-key"));
    assert!(!shown.contains("not accepted"), "{shown}");
}

#[test]
fn a_batch_goes_in_one_request() {
    let server = Scripted::start([]);
    let batch = records(3);
    assert_eq!(
        sink(&server.url(), Duration::from_secs(2)).send(&batch),
        Ok(())
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let logs = &seen[0].json()["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
    assert_eq!(logs.as_array().unwrap().len(), 3);
}

#[test]
fn in_background_mode_records_go_in_batches_of_otlp_log_records() {
    let server = Scripted::start([]);
    let dir = telemetry_test_support::TempDir::new("otlp-background");
    let telemetry = Telemetry::isolated("otlp-background", "1.0.0")
        .endpoint(server.url())
        .export(Export::Otlp)
        .config_dir(dir.path())
        .delivery(Delivery::Background)
        .build();
    for _ in 0..5 {
        telemetry.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    }
    assert_eq!(telemetry.flush(Duration::from_secs(10)), Flushed::Delivered);
    let seen = server.seen();
    let mut sent = 0;
    for request in &seen {
        assert_eq!(request.target, "/v1/logs");
        let logs = &request.json()["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
        for log in logs.as_array().unwrap() {
            assert_eq!(log["eventName"], "tool");
            sent += 1;
        }
    }
    assert_eq!(sent, 5, "every record once");
    assert!(seen.len() < 5, "batched: {} requests", seen.len());
}

/// Regression: in background mode a partial success stopped sending and
/// kept the whole batch in the spool, so the next run sent the accepted
/// records again. The batch is acknowledged, and the count said.
#[test]
fn in_background_mode_a_partial_success_is_not_sent_again() {
    let partial = r#"{"partialSuccess":{"rejectedLogRecords":"1"}}"#;
    let server = Scripted::start([answer(200, "", partial)]);
    let dir = telemetry_test_support::TempDir::new("otlp-partial");
    let log = MemoryWriter::new();
    let client = |log: &MemoryWriter| {
        Telemetry::isolated("otlp-partial", "1.0.0")
            .endpoint(server.url())
            .export(Export::Otlp)
            .config_dir(dir.path())
            .delivery(Delivery::Background)
            .debug_writer(log.clone())
            .build()
    };
    let first = client(&log);
    for _ in 0..3 {
        first.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    }
    assert_eq!(first.flush(Duration::from_secs(10)), Flushed::Delivered);
    drop(first);
    assert!(
        log.text().contains("refused 1 of a batch"),
        "{}",
        log.text()
    );

    let second = client(&MemoryWriter::new());
    second.record_tool_call("t", "", "", Duration::ZERO, Outcome::Success);
    assert_eq!(second.flush(Duration::from_secs(10)), Flushed::Delivered);
    let sent: usize = server
        .seen()
        .iter()
        .map(|request| {
            request.json()["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .sum();
    assert_eq!(sent, 4, "the first three once, then the new one");
}

#[test]
fn a_partial_success_is_reported_by_its_count_only_and_delivery_goes_on() {
    let partial = r#"{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"bad record /home/alice/secret"}}"#;
    let server = Scripted::start([answer(200, "", partial), answer(200, "", partial)]);
    let otlp = sink(&server.url(), Duration::from_secs(2));
    assert_eq!(
        otlp.send(&records(3)),
        Err(SendError::PartlyRejected { rejected: 2 })
    );
    assert!(!otlp.is_stopped());

    let log = MemoryWriter::new();
    let telemetry = client(&server.url(), &log, &[]);
    telemetry.track_command("run", Vec::<String>::new());
    telemetry.track_command("next", Vec::<String>::new());
    assert_eq!(
        server.seen().len(),
        3,
        "delivery went on after the partial success"
    );
    let said = ["not accepted: the collector rejected 2 of the records"];
    assert_says(&log.text(), &said, &["secret"]);
}

#[test]
fn a_429_with_retry_after_is_retried_after_the_delay() {
    let server = Scripted::start([answer(429, "Retry-After: 1\r\n", "")]);
    let started = Instant::now();
    assert_eq!(
        sink(&server.url(), Duration::from_secs(3)).send(&records(1)),
        Ok(())
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the delay was honoured"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body, seen[1].body, "the same request, resent");
}

#[test]
fn a_503_with_retry_after_is_retried_too() {
    let server = Scripted::start([answer(503, "Retry-After: 0\r\n", "")]);
    assert_eq!(
        sink(&server.url(), Duration::from_secs(2)).send(&records(1)),
        Ok(())
    );
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn a_retry_after_beyond_the_deadline_is_a_rejection_at_once_then_a_back_off() {
    let server = Scripted::start([
        answer(503, "Retry-After: 120\r\n", ""),
        answer(429, "Retry-After: 1\r\n", ""),
        answer(429, "Retry-After: 1\r\n", ""),
    ]);
    let otlp = sink(&server.url(), Duration::from_millis(1500));
    let started = Instant::now();
    assert_eq!(otlp.send(&records(1)), Err(SendError::Rejected(503)));
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "it did not wait 120 s"
    );
    assert_eq!(server.seen().len(), 1);
    // The collector asked for 120 s: nothing is sent before.
    assert!(matches!(
        otlp.send(&records(1)),
        Err(SendError::Backoff { .. })
    ));
    assert_eq!(server.seen().len(), 1);
    assert!(!otlp.is_stopped());
}

#[test]
fn throttled_twice_in_a_row_is_retried_once_then_backs_off() {
    let server = Scripted::start([
        answer(429, "Retry-After: 1\r\n", ""),
        answer(429, "Retry-After: 1\r\n", ""),
    ]);
    let otlp = sink(&server.url(), Duration::from_millis(1500));
    assert_eq!(otlp.send(&records(1)), Err(SendError::Rejected(429)));
    assert_eq!(server.seen().len(), 2);
    assert!(matches!(
        otlp.send(&records(1)),
        Err(SendError::Backoff { .. })
    ));
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(otlp.send(&records(1)), Ok(()));
    assert_eq!(server.seen().len(), 3);
}

/// The OTLP/HTTP specification: 429, 502, 503 and 504 may be retried
/// (here without `Retry-After`: the back-off's own wait, at most 1 s after
/// a first failure); every other status is refused for good, never
/// retried, and delivery goes on at once. (Each status on a thread of its
/// own, so that the waits are paid once.)
#[test]
fn only_429_502_503_504_are_retried_other_statuses_are_refused_for_good() {
    std::thread::scope(|scope| {
        for status in [429, 502, 503, 504, 400, 404, 413, 500, 501] {
            scope.spawn(move || refused_then_goes_on(status));
        }
    });
}

fn refused_then_goes_on(status: u16) {
    let server = Scripted::start([answer(status, "", r#"{"code":3,"message":"no"}"#)]);
    let otlp = sink(&server.url(), Duration::from_secs(2));
    assert_eq!(otlp.send(&records(1)), Err(SendError::Rejected(status)));
    assert_eq!(server.seen().len(), 1, "{status}: not retried at once");
    if matches!(status, 429 | 502 | 503 | 504) {
        assert!(
            matches!(otlp.send(&records(1)), Err(SendError::Backoff { .. })),
            "{status}: backs off"
        );
        assert_eq!(
            server.seen().len(),
            1,
            "{status}: no connection while waiting"
        );
        std::thread::sleep(Duration::from_millis(1100));
    }
    assert_eq!(otlp.send(&records(1)), Ok(()), "{status}: delivery goes on");
}

#[test]
fn a_2xx_with_a_garbage_body_is_accepted() {
    let server = Scripted::start([
        answer(200, "", "<html>proxy page</html>"),
        answer(202, "", ""),
        answer(
            200,
            "",
            r#"{"partialSuccess":{"rejectedLogRecords":"lots"}}"#,
        ),
    ]);
    let otlp = sink(&server.url(), Duration::from_secs(2));
    for _ in 0..3 {
        assert_eq!(otlp.send(&records(1)), Ok(()));
    }
}

#[test]
fn a_refused_connection_stops_delivery() {
    let otlp = sink(
        &format!("http://{}", refused_addr()),
        Duration::from_secs(2),
    );
    assert!(matches!(
        otlp.send(&records(1)),
        Err(SendError::Transport(_))
    ));
    assert!(otlp.is_stopped());
    assert_eq!(otlp.send(&records(1)), Err(SendError::Stopped));
}

#[test]
fn a_blackhole_costs_one_timeout_then_delivery_stops() {
    let collector = Collector::start_with(Behaviour::Blackhole).unwrap();
    let log = MemoryWriter::new();
    let telemetry = isolated("otlp-faults", "1.0.0")
        .endpoint(collector.url())
        .export(Export::Otlp)
        .timeout(Duration::from_millis(300))
        .debug(true)
        .debug_writer(log.clone())
        .build();
    for _ in 0..5 {
        telemetry.track_command("run", Vec::<String>::new());
    }
    assert_eq!(collector.requests().len(), 0, "no answer, nothing kept");
    assert_eq!(collector.connections(), 1, "only the first call tried");
    let shown = log.text();
    assert_eq!(
        shown
            .matches("delivery stopped for the rest of this process")
            .count(),
        1
    );
}

#[test]
fn garbage_instead_of_http_stops_delivery() {
    let collector = Collector::start_with(Behaviour::Garbage).unwrap();
    let otlp = sink(&collector.url(), Duration::from_secs(2));
    assert!(matches!(
        otlp.send(&records(1)),
        Err(SendError::Transport(_))
    ));
    assert_eq!(otlp.send(&records(1)), Err(SendError::Stopped));
}

#[test]
fn opted_out_opens_no_connection() {
    let server = Scripted::start([]);
    for env in [[("DO_NOT_TRACK", "1")], [("TELEMETRY_ENABLED", "false")]] {
        let telemetry = client(&server.url(), &MemoryWriter::default(), &env);
        assert!(!telemetry.is_enabled());
        telemetry.track_command("run", Vec::<String>::new());
    }
    assert!(server.seen().is_empty());
}

#[test]
fn the_endpoint_variable_replaces_the_base_url() {
    let server = Scripted::start([]);
    let telemetry = client(
        "http://127.0.0.1:9/unused",
        &MemoryWriter::default(),
        &[("TELEMETRY_ENDPOINT", &server.url())],
    );
    telemetry.track_command("run", Vec::<String>::new());
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, "/v1/logs");
}

#[tokio::test(flavor = "current_thread")]
async fn works_inside_a_tokio_runtime() {
    let server = Scripted::start([answer(429, "Retry-After: 0\r\n", "")]);
    let telemetry = client(&server.url(), &MemoryWriter::default(), &[]);
    telemetry.track_command("run", Vec::<String>::new());
    assert_eq!(server.seen().len(), 2);
}
