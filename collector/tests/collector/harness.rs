//! The collector binary as a process on 127.0.0.1, and a plain HTTP/1.1
//! client for it (raw sockets, so that a test controls every byte).

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;
use telemetry_test_support::TempDir;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_telemetry-collector");

/// A running `telemetry-collector serve`; killed when dropped.
pub struct Collector {
    pub child: Child,
    pub addr: SocketAddr,
    pub db: PathBuf,
    pub dir: TempDir,
}

impl Collector {
    /// `serve --db <temp>/telemetry.db --listen 127.0.0.1:0` plus `args`.
    pub fn start(args: &[&str]) -> Collector {
        let dir = TempDir::new("collector");
        let db = dir.join("telemetry.db");
        Collector::start_on(dir, db, args)
    }

    /// `serve` with `flag FILE`, the file holding `contents` (a token, keys).
    pub fn with_file(flag: &str, contents: &str) -> Collector {
        let dir = TempDir::new("collector");
        let file = dir.join("flag-file");
        std::fs::write(&file, contents).expect("write the flag's file");
        let db = dir.join("telemetry.db");
        Collector::start_on(dir, db, &[flag, file.to_str().expect("a UTF-8 path")])
    }

    /// `serve` on an existing database file.
    pub fn start_on(dir: TempDir, db: PathBuf, args: &[&str]) -> Collector {
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--db"])
            .arg(&db)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("the collector starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the first line");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("first line: {line:?}"))
            .parse()
            .expect("an address");
        Collector {
            child,
            addr,
            db,
            dir,
        }
    }

    /// POSTs a body; returns the status and the answer's JSON.
    pub fn post(&self, path: &str, body: &[u8], headers: &[(&str, &str)]) -> (u16, Value) {
        let answer = request(self.addr, "POST", path, body, headers);
        (answer.status, answer.json())
    }

    /// POSTs `{"records":[…]}`.
    pub fn post_records(&self, records: &[Value]) -> (u16, Value) {
        let body = serde_json::json!({ "records": records }).to_string();
        self.post("/v1/events", body.as_bytes(), &[])
    }

    /// `http://127.0.0.1:PORT`: where apps and browsers reach it.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// GETs a path with these headers.
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        request(self.addr, "GET", path, b"", headers)
    }

    /// GETs a path that must answer 200 with JSON.
    pub fn get_json(&self, path: &str) -> Value {
        let answer = self.get(path, &[]);
        assert_eq!(answer.status, 200, "{path}: {}", answer.text());
        serde_json::from_slice(&answer.body)
            .unwrap_or_else(|error| panic!("{path}: {error}: {}", answer.text()))
    }

    /// GETs a view; returns the status and the JSON.
    pub fn view(&self, view: &str, query: &str) -> (u16, Value) {
        let answer = self.get(&format!("/api/v1/{view}?{query}"), &[]);
        (answer.status, answer.json())
    }

    /// A view that must answer 200.
    pub fn view_ok(&self, view: &str, query: &str) -> Value {
        let (status, answer) = self.view(view, query);
        assert_eq!(status, 200, "{view}?{query}: {answer}");
        answer
    }

    /// SIGTERM, then waits for the exit.
    pub fn stop(mut self) -> (std::process::ExitStatus, TempDir, PathBuf) {
        signal(&self.child, libc::SIGTERM);
        let status = self.child.wait().expect("the collector exits");
        let dir = std::mem::replace(&mut self.dir, TempDir::new("collector-moved"));
        (status, dir, self.db.clone())
    }

    /// SIGKILL, then waits.
    pub fn kill(mut self) -> (TempDir, PathBuf) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = std::mem::replace(&mut self.dir, TempDir::new("collector-moved"));
        (dir, self.db.clone())
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a signal to a child.
pub fn signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    // SAFETY: a plain kill(2) on our own child.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// An answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text (the icon's bytes show as U+FFFD).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether it asks a browser for a password (`WWW-Authenticate: Basic`).
    pub fn asks_for_basic_auth(&self) -> bool {
        self.header("www-authenticate")
            .is_some_and(|value| value.starts_with("Basic"))
    }

    /// A header's value (the name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// One request on a fresh connection (`Connection: close`).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    read_answer(&mut stream).expect("an answer")
}

/// Reads one answer until the server closes.
pub fn read_answer(stream: &mut TcpStream) -> Option<Answer> {
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some(Answer {
        status,
        head,
        body: bytes[end + 4..].to_vec(),
    })
}

/// `telemetry-collector SUBCOMMAND --db PATH` plus args, run to its end
/// (`NO_COLOR` unset, as on a user's terminal).
pub fn command(subcommand: &str, db: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args([subcommand, "--db"])
        .arg(db)
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("the collector runs")
}

/// `export --db PATH` plus args.
pub fn export(db: &Path, args: &[&str]) -> Output {
    command("export", db, args)
}

/// The string at `pointer` (`/properties/event_id`) in each item.
pub fn strings<'a>(items: &'a [Value], pointer: &str) -> Vec<&'a str> {
    items
        .iter()
        .map(|item| item.pointer(pointer).and_then(Value::as_str).unwrap_or(""))
        .collect()
}

/// The exported records.
pub fn exported(db: &Path) -> Vec<Value> {
    let output = export(db, &[]);
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// gzip bytes.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).expect("gzip");
    encoder.finish().expect("gzip")
}

/// Connects and sends a request; `None` when the connection is refused or
/// closed without an answer.
pub fn try_connect(addr: SocketAddr) -> Option<Answer> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"GET /api/v1/apps HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    read_answer(&mut stream)
}
