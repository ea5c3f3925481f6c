//! Drives the example server as an MCP client would: the built binary as a
//! child process, real JSON-RPC over its stdin and stdout (`initialize`,
//! `tools/list`, `tools/call`), telemetry sent to a collector on
//! 127.0.0.1 that this file runs (a few lines of std HTTP/1.1).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long any one step may take before the test fails instead of hanging.
const STEP: Duration = Duration::from_secs(60);

/// A loopback collector: keeps every record of every `{"records":[..]}`
/// body POSTed to it, answers 200.
struct Collector {
    url: String,
    records: Arc<Mutex<Vec<Value>>>,
}

impl Collector {
    fn start() -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let url = format!("http://{}/v1/events", listener.local_addr().unwrap());
        let records = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&records);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = Arc::clone(&kept);
                thread::spawn(move || serve(stream, &kept));
            }
        });
        Collector { url, records }
    }

    fn records(&self) -> Vec<Value> {
        self.records.lock().unwrap().clone()
    }
}

/// Answers the requests of one keep-alive connection until it closes.
fn serve(stream: TcpStream, kept: &Mutex<Vec<Value>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut content_length = 0;
        let mut line = String::new();
        // The request line, then the headers up to an empty line.
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let lower = header.to_ascii_lowercase();
            if let Some(value) = lower.strip_prefix("content-length:") {
                content_length = value.trim().parse().expect("a numeric Content-Length");
            }
            assert!(
                !lower.starts_with("content-encoding:"),
                "this collector reads identity bodies only: {header}"
            );
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body).expect("the whole body");
        let body: Value = serde_json::from_slice(&body).expect("a JSON body");
        let records = body["records"].as_array().expect("a records array").clone();
        kept.lock().unwrap().extend(records);
        stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .expect("answer");
    }
}

/// A fresh, private config dir for the server (removed on drop).
struct ConfigDir(PathBuf);

impl ConfigDir {
    fn new(name: &str) -> ConfigDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "mcp-server-example-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        ConfigDir(path)
    }
}

impl Drop for ConfigDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The server as a child process, with a clean environment (no CI or
/// opt-out variable from the machine running the test).
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stdout: Vec<String>,
}

impl Server {
    fn spawn(config: &ConfigDir, collector: &Collector) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-server-example"))
            .env_clear()
            .env("HOME", &config.0)
            .env("XDG_CONFIG_HOME", &config.0)
            .env("TELEMETRY_ENDPOINT", &collector.url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the example server");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Server {
            stdin: child.stdin.take(),
            child,
            lines,
            stdout: Vec::new(),
        }
    }

    fn send(&mut self, message: &Value) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{message}").expect("write to the server");
        stdin.flush().unwrap();
    }

    /// Sends a request and returns its response (the next line with its id).
    fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let line = self
                .lines
                .recv_timeout(STEP)
                .unwrap_or_else(|_| panic!("no answer to {method}"));
            self.stdout.push(line.clone());
            let message: Value = serde_json::from_str(&line)
                .unwrap_or_else(|_| panic!("stdout holds a line that is not JSON: {line:?}"));
            if message["id"] == id {
                return message;
            }
        }
    }

    fn initialize(&mut self, client: &str) {
        let answer = self.request(
            1,
            "initialize",
            json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": client, "version": "1.0.0"}
            }),
        );
        assert!(answer["result"]["serverInfo"].is_object(), "{answer}");
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    }

    /// Closes stdin (the client disconnects), waits for the process to
    /// exit, and returns everything it wrote to stdout.
    fn disconnect(mut self) -> Vec<String> {
        drop(self.stdin.take());
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "the server exited with {status}");
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not exit after its client disconnected");
            }
            thread::sleep(Duration::from_millis(20));
        }
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.stdout.push(line);
        }
        self.stdout
    }
}

fn call_tool(server: &mut Server, id: u64, name: &str, arguments: Value) -> Value {
    server.request(
        id,
        "tools/call",
        json!({"name": name, "arguments": arguments}),
    )
}

fn assert_only_jsonrpc(stdout: &[String]) {
    for line in stdout {
        let message: Value = serde_json::from_str(line)
            .unwrap_or_else(|_| panic!("stdout holds a line that is not JSON-RPC: {line:?}"));
        assert_eq!(message["jsonrpc"], "2.0", "{line}");
    }
}

#[test]
fn one_connection_is_one_session_and_a_failed_tool_sends_its_jsonrpc_kind() {
    let collector = Collector::start();
    let config = ConfigDir::new("session");

    // First run: the notice is shown (on stderr) and nothing is sent.
    let mut first = Server::spawn(&config, &collector);
    first.initialize("claude-code");
    assert_only_jsonrpc(&first.disconnect());
    assert_eq!(
        collector.records(),
        Vec::<Value>::new(),
        "the first run sends nothing"
    );

    // Second run: a client connects, lists the tools and calls them.
    let mut server = Server::spawn(&config, &collector);
    server.initialize("claude-code");
    let tools = server.request(2, "tools/list", json!({}));
    let mut names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .expect("a tools list")
        .iter()
        .map(|tool| tool["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["add", "lookup"]);

    let sum = call_tool(&mut server, 3, "add", json!({"a": 2, "b": 40}));
    assert_eq!(sum["result"]["content"][0]["text"], "42", "{sum}");
    let unknown = call_tool(
        &mut server,
        4,
        "lookup",
        json!({"country": "SECRET-Atlantis"}),
    );
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    let capital = call_tool(&mut server, 5, "lookup", json!({"country": "Japan"}));
    assert_eq!(
        capital["result"]["content"][0]["text"], "Tokyo",
        "{capital}"
    );

    let before_disconnect = collector.records();
    assert!(
        !before_disconnect
            .iter()
            .any(|r| r["event"] == "session" && r["properties"]["action"] == "end"),
        "the session is still open while the client is connected"
    );

    let stdout = server.disconnect();
    assert_only_jsonrpc(&stdout);

    let records = collector.records();
    let of = |event: &str, action: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|r| r["event"] == event && r["properties"]["action"] == action)
            .map(|r| &r["properties"])
            .collect()
    };
    let starts = of("session", "start");
    assert_eq!(starts.len(), 1, "one connection, one session: {records:#?}");
    let session_id = starts[0]["session_id"].as_str().unwrap();
    assert!(!session_id.is_empty());
    assert_eq!(starts[0]["agent_name"], "claude-code");

    let tools = of("tool", "call");
    let summary: Vec<(&str, bool, &Value)> = tools
        .iter()
        .map(|t| {
            (
                t["tool_name"].as_str().unwrap(),
                t["is_success"].as_bool().unwrap(),
                &t["error"],
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("add", true, &Value::Null),
            ("lookup", false, &json!("InvalidParams")),
            ("lookup", true, &Value::Null),
        ]
    );
    for tool in &tools {
        assert_eq!(tool["session_id"], session_id, "{tool}");
        assert_eq!(tool["agent_name"], "claude-code", "{tool}");
    }

    let ends = of("session", "end");
    assert_eq!(
        ends.len(),
        1,
        "the session ends when the client disconnects"
    );
    assert_eq!(ends[0]["session_id"], session_id);
    assert_eq!(ends[0]["tool_calls"], 3);
    assert_eq!(ends[0]["error_count"], 1);
    assert_eq!(ends[0]["error"], json!(["InvalidParams"]));

    let everything = serde_json::to_string(&records).unwrap();
    assert!(
        !everything.contains("SECRET"),
        "an argument or message was sent"
    );
}

#[test]
fn a_client_outside_the_known_set_is_other() {
    let collector = Collector::start();
    let config = ConfigDir::new("other");
    let mut first = Server::spawn(&config, &collector); // shows the notice
    first.initialize("alice-private-client");
    first.disconnect();
    let mut server = Server::spawn(&config, &collector);
    server.initialize("alice-private-client");
    let sum = call_tool(&mut server, 2, "add", json!({"a": 1, "b": 1}));
    assert_eq!(sum["result"]["content"][0]["text"], "2", "{sum}");
    assert_only_jsonrpc(&server.disconnect());

    let records = collector.records();
    assert!(!records.is_empty());
    for record in &records {
        assert_eq!(record["properties"]["agent_name"], "other", "{record}");
    }
    assert!(!serde_json::to_string(&records).unwrap().contains("alice"));
}
