//! `raw_post`: the floor that `benches/short_run.rs` measures the delivery
//! modes against. It prints the line `agent version` prints and, given a
//! loopback `http://IP:PORT/PATH` URL, makes one raw HTTP/1.1 POST of a
//! one-record body over `std::net::TcpStream` and reads the answer: no
//! client library, no runtime, no thread.
//!
//! ```text
//! raw_post LINE [URL]
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let line = args.next().unwrap_or_default();
    println!("{line}");
    match args.next() {
        Some(url) => match post(&url) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("raw_post: {error}");
                ExitCode::FAILURE
            }
        },
        None => ExitCode::SUCCESS,
    }
}

fn post(url: &str) -> std::io::Result<()> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let body = r#"{"records":[{"event":"command","event_timestamp":1795620628495,"source":"agent","properties":{"action":"version","args":[],"is_success":true,"duration_ms":0}}]}"#;
    let request = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nUser-Agent: raw_post\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(host)?;
    stream.write_all(request.as_bytes())?;
    let mut answer = [0u8; 512];
    let read = stream.read(&mut answer)?;
    if answer[..read].starts_with(b"HTTP/1.1 2") {
        Ok(())
    } else {
        Err(std::io::Error::other("the collector did not answer 2xx"))
    }
}
