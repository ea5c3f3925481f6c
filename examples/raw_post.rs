//! `raw_post`: the floor that `benches/short_run.rs` measures the delivery
//! modes against. It prints the line `agent version` prints and, given a
//! loopback `http://IP:PORT/PATH` URL, makes one raw HTTP/1.1 POST of a
//! one-record body over `std::net::TcpStream` and reads the answer: no
//! client library, no runtime, no thread.
//!
//! ```text
//! raw_post LINE [URL]
//! ```

#[path = "floor/program.rs"]
mod program;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;

fn main() -> ExitCode {
    program::run("raw_post", post)
}

fn post(url: &str) -> std::io::Result<()> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let body = program::BODY;
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
