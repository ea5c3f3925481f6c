//! `collector`: a local collector to point an instrumented program at.
//!
//! ```text
//! cargo run --example collector -- [--addr 127.0.0.1:PORT]
//! ```
//!
//! It listens on a loopback address only (default `127.0.0.1:4318`), prints
//! each record it receives as one line of JSON on stdout, answers `200`, and
//! answers `400` with the reason when a body is not the wire format
//! (`{"records":[...]}`). Messages for people go to stderr, so stdout can be
//! piped into `jq` or a file. Stop it with Ctrl-C.
//!
//! In another terminal:
//!
//! ```text
//! TELEMETRY_ENDPOINT=http://127.0.0.1:4318/v1/events \
//!     cargo run --example agent -- run "hello"
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;
use telemetry_test_support::collector::Collector;

const DEFAULT_ADDR: &str = "127.0.0.1:4318";

const USAGE: &str = "\
usage: collector [--addr 127.0.0.1:PORT]

Listens on a loopback address (default 127.0.0.1:4318; port 0 picks a free
one), prints each received record as one JSON line on stdout, answers 200, and
400 with the reason for a body that is not the wire format.";

fn main() -> ExitCode {
    let addr = match parse_addr(std::env::args_os().skip(1)) {
        Ok(Some(addr)) => addr,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("collector: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let collector = match Collector::builder().addr(addr).echo(true).start() {
        Ok(collector) => collector,
        Err(error) => {
            eprintln!("collector: cannot listen on {addr}: {error}");
            return ExitCode::from(1);
        }
    };
    eprintln!("collector: listening on {}", collector.addr());
    eprintln!(
        "collector: point a program at it with TELEMETRY_ENDPOINT={}",
        collector.url()
    );
    eprintln!("collector: each record received is printed below as one JSON line; Ctrl-C stops");
    // The collector serves on its own threads; this one only keeps it alive.
    loop {
        std::thread::park();
    }
}

/// `Ok(None)` for `--help`.
fn parse_addr(
    mut args: impl Iterator<Item = std::ffi::OsString>,
) -> Result<Option<SocketAddr>, String> {
    let mut addr = None;
    while let Some(arg) = args.next() {
        let arg = arg
            .into_string()
            .map_err(|_| "an argument is not valid UTF-8".to_owned())?;
        let value = match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => args
                .next()
                .and_then(|value| value.into_string().ok())
                .ok_or("--addr needs an address such as 127.0.0.1:4318")?,
            _ => match arg.strip_prefix("--addr=") {
                Some(value) => value.to_owned(),
                None => return Err(format!("unexpected argument {arg:?}")),
            },
        };
        addr = Some(value);
    }
    let text = addr.as_deref().unwrap_or(DEFAULT_ADDR);
    let addr: SocketAddr = text.parse().map_err(|_| {
        format!("{text:?} is not an IP address and port such as 127.0.0.1:4318 or [::1]:4318")
    })?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "refusing to listen on {addr}: this collector is for local testing and listens on \
             loopback addresses only (127.0.0.1 or [::1])"
        ));
    }
    Ok(Some(addr))
}
