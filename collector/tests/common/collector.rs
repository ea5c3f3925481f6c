//! The `telemetry-collector` binary on 127.0.0.1, and plain HTTP/1.1 to it.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A `telemetry-collector serve` process; killed on drop.
pub struct Running {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Running {
    /// Starts `serve` on a free loopback port with this database.
    pub fn start(db: &Path) -> Running {
        Running::start_with(db, &[])
    }

    /// Starts `serve` with more flags (`--token-file FILE`, …).
    pub fn start_with(db: &Path, flags: &[&std::ffi::OsStr]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_telemetry-collector"))
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .args(flags)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start telemetry-collector");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the collector's first line");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        Running { child, base }
    }

    /// GETs a path with extra header lines (`Name: value\r\n` each): the
    /// status, the head and the body.
    pub fn get(&self, path: &str, headers: &str) -> (u16, String, String) {
        exchange(&self.base, "GET", path, headers, "")
    }

    /// GETs a path and parses the JSON body (asserting a 200).
    pub fn get_json(&self, path: &str) -> Value {
        let (status, body) = request(&self.base, "GET", path, "");
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|error| panic!("{path}: {error}: {body}"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs a JSON body; the status and the body of the answer.
pub fn post(base: &str, path: &str, body: &str) -> (u16, String) {
    request(base, "POST", path, body)
}

fn request(base: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let (status, _, body) = exchange(base, method, path, "", body);
    (status, body)
}

fn exchange(
    base: &str,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (u16, String, String) {
    let host = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("connect to the collector");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send the request");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read the answer");
    // The icon is not text: its bytes show as U+FFFD, which no test reads.
    let answer = String::from_utf8_lossy(&bytes).into_owned();
    let status = answer
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, head.to_owned(), body)
}

/// A chunked body's content.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size =
            usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}
