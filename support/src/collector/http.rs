//! A minimal HTTP/1.1 server side: one thread per connection, keep-alive,
//! `Content-Length` bodies only.

use super::{wire, Behaviour, Request, Shared};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

pub(crate) fn serve_connection(stream: TcpStream, shared: &Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    loop {
        if shared.behaviour() == Behaviour::Reset {
            reset(&mut reader);
            return;
        }
        let request = match read_request(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err((status, reason)) => {
                let _ = respond(&mut writer, status, &reason, true);
                return;
            }
        };
        let behaviour = shared.behaviour();
        if !answer(&mut writer, shared, request, &behaviour) {
            return;
        }
    }
}

/// Handles one request; returns whether the connection stays open.
fn answer(
    writer: &mut TcpStream,
    shared: &Arc<Shared>,
    request: Request,
    behaviour: &Behaviour,
) -> bool {
    match behaviour {
        Behaviour::Blackhole => {
            // Keep the socket open and silent until the client gives up.
            let mut sink = [0u8; 1024];
            while matches!(writer.read(&mut sink), Ok(n) if n > 0) {}
            false
        }
        Behaviour::Reset => false,
        Behaviour::StallAfterHead => {
            let records = wire::check_body(&request.body).ok();
            store(shared, request, records);
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 64\r\n\r\n";
            if writer.write_all(head.as_bytes()).is_ok() {
                let mut sink = [0u8; 1024];
                while matches!(writer.read(&mut sink), Ok(n) if n > 0) {}
            }
            false
        }
        Behaviour::Garbage => {
            let _ = writer.write_all(b"\x00\x01 this is not HTTP \xff\r\n\r\n");
            let _ = writer.shutdown(Shutdown::Both);
            false
        }
        Behaviour::Accept => accept(writer, shared, request),
        Behaviour::HoldIfBodyContains(marker) => {
            if contains(&request.body, marker.as_bytes()) {
                shared.hold();
            }
            accept(writer, shared, request)
        }
        Behaviour::Status(status) => {
            let records = wire::check_body(&request.body).ok();
            store(shared, request, records);
            respond(writer, *status, "", false).is_ok()
        }
        Behaviour::Throttle(status, retry_after) => {
            store(shared, request, None);
            respond_with(
                writer,
                *status,
                &format!("Retry-After: {retry_after}\r\n"),
                "",
            )
            .is_ok()
        }
        Behaviour::Delay(delay) => {
            std::thread::sleep(*delay);
            let records = wire::check_body(&request.body).ok();
            store(shared, request, records);
            respond(writer, 200, "", false).is_ok()
        }
        Behaviour::CloseAfterReading => {
            let records = wire::check_body(&request.body).ok();
            store(shared, request, records);
            let _ = writer.shutdown(Shutdown::Both);
            false
        }
        Behaviour::CloseAfterAnswer => {
            let records = wire::check_body(&request.body).ok();
            store(shared, request, records);
            let _ = respond(writer, 200, "", false);
            let _ = writer.shutdown(Shutdown::Both);
            false
        }
    }
}

/// Validates the body; 200 and keeps its records, or 400 with a reason.
fn accept(writer: &mut TcpStream, shared: &Arc<Shared>, request: Request) -> bool {
    let checked = wire::check_body(&request.body);
    let (status, text) = match &checked {
        Ok(records) => (200, format!("{{\"accepted\":{}}}", records.len())),
        Err(reason) => (400, reason.clone()),
    };
    store(shared, request, checked.ok());
    respond(writer, status, &text, false).is_ok()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

fn store(shared: &Arc<Shared>, request: Request, records: Option<Vec<serde_json::Value>>) {
    let mut received = shared.received();
    if let Some(records) = records {
        shared
            .records_received
            .fetch_add(records.len(), Ordering::SeqCst);
        if shared.echo {
            let mut stdout = io::stdout().lock();
            for record in &records {
                let _ = writeln!(stdout, "{record}");
            }
        }
        if shared.retain {
            received.records.extend(records);
        }
    }
    if shared.retain {
        received.requests.push(request);
    }
    shared.arrived.notify_all();
}

fn respond(writer: &mut TcpStream, status: u16, body: &str, close: bool) -> io::Result<()> {
    let connection = if close { "Connection: close\r\n" } else { "" };
    respond_with(writer, status, connection, body)
}

/// Answers `status` with `body` and the extra header lines `headers`
/// (each ending in CRLF).
fn respond_with(writer: &mut TcpStream, status: u16, headers: &str, body: &str) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        411 => "Length Required",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    writer.write_all(response.as_bytes())?;
    writer.flush()
}

/// Reads the first bytes of a request and closes the socket with the rest
/// unread, which makes the kernel reset the connection (RST) instead of
/// closing it cleanly.
fn reset(reader: &mut BufReader<TcpStream>) {
    let mut first = [0u8; 8];
    let _ = reader.get_mut().read(&mut first);
    // A short pause lets the rest of the request arrive, so that it is
    // still unread when the socket closes.
    std::thread::sleep(Duration::from_millis(20));
}

/// Reads one request; `Ok(None)` when the client closed the connection.
/// A gzip body is inflated (at most [`MAX_BODY`] bytes: a larger one is
/// refused with 413, so that a gzip bomb costs nothing); the error is the
/// status to answer and why.
fn read_request(reader: &mut BufReader<TcpStream>) -> Result<Option<Request>, (u16, String)> {
    let Some(mut request) = read_raw_request(reader).map_err(|reason| (400, reason))? else {
        return Ok(None);
    };
    request.body = match request.header("content-encoding") {
        None => request.wire_body.clone(),
        Some(coding) if coding.eq_ignore_ascii_case("identity") => request.wire_body.clone(),
        Some(coding) if coding.eq_ignore_ascii_case("gzip") => inflate(&request.wire_body)?,
        Some(_) => return Err((415, "only gzip and identity bodies are served".into())),
    };
    Ok(Some(request))
}

/// A gzip body, inflated to at most [`MAX_BODY`] bytes.
fn inflate(body: &[u8]) -> Result<Vec<u8>, (u16, String)> {
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(body)
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut inflated)
        .map_err(|error| (400, format!("the gzip body is corrupt: {error}")))?;
    if inflated.len() > MAX_BODY {
        return Err((413, "the inflated body is too large".into()));
    }
    Ok(inflated)
}

/// Reads one request as it came; `Ok(None)` when the client closed the
/// connection.
fn read_raw_request(reader: &mut BufReader<TcpStream>) -> Result<Option<Request>, String> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let read = reader
            .by_ref()
            .take((MAX_HEAD + 1 - head.len()) as u64)
            .read_until(b'\n', &mut head)
            .map_err(|error| format!("read failed: {error}"))?;
        if read == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err("the connection closed mid-request".into())
            };
        }
        if head.len() > MAX_HEAD {
            return Err("the request head is too large".into());
        }
        let line = &head[before..];
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let head = String::from_utf8(head).map_err(|_| "the request head is not UTF-8".to_owned())?;
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let (Some(_method), Some(path), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err("the request line is malformed".into());
    };
    if !version.starts_with("HTTP/1.") {
        return Err("only HTTP/1.x is served".into());
    }
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length = match headers.iter().find(|(name, _)| name == "content-length") {
        Some((_, value)) => value
            .parse::<usize>()
            .map_err(|_| "Content-Length is not a number".to_owned())?,
        None if headers.iter().any(|(name, _)| name == "transfer-encoding") => {
            return Err("chunked bodies are not served; send Content-Length".into())
        }
        None => 0,
    };
    if length > MAX_BODY {
        return Err("the body is too large".into());
    }
    let mut body = vec![0; length];
    reader
        .read_exact(&mut body)
        .map_err(|error| format!("the body is incomplete: {error}"))?;
    Ok(Some(Request {
        path: path.to_owned(),
        headers,
        body: Vec::new(),
        wire_body: body,
    }))
}
