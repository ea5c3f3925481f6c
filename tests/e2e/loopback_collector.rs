//! The loopback test collector (`telemetry_test_support::collector`) that
//! every other module sends to: its wire-format check, `retain(false)`,
//! and requests held until released. Here rather than in a test
//! executable of the support crate's own: one executable fewer to link.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use telemetry_test_support::collector::{check_body, Behaviour, Collector};

#[test]
fn accepts_the_wire_format() {
    let body =
        br#"{"records":[{"event":"tool","event_timestamp":1,"source":"a","properties":{}}]}"#;
    assert_eq!(check_body(body).map(|records| records.len()), Ok(1));
}

#[test]
fn rejects_other_bodies_with_a_reason() {
    assert!(check_body(b"nope").unwrap_err().contains("not JSON"));
    assert!(check_body(b"{}").unwrap_err().contains("records"));
    let bad =
        br#"{"records":[{"event":"tool","event_timestamp":-1,"source":"a","properties":{}}]}"#;
    assert!(check_body(bad).unwrap_err().contains("event_timestamp"));
}

/// `retain(false)`: records are checked, answered and counted, not kept.
#[test]
fn without_retain_records_are_counted_not_kept() {
    let collector = Collector::builder().retain(false).start().unwrap();
    let body =
        br#"{"records":[{"event":"tool","event_timestamp":1,"source":"a","properties":{}}]}"#;
    let mut stream = TcpStream::connect(collector.addr()).unwrap();
    let head = format!(
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    // The collector serves keep-alive: end the request stream.
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(collector.records_received(), 1);
    assert!(collector.records().is_empty());
    assert!(collector.requests().is_empty());
}

fn post(addr: SocketAddr, body: &str) -> std::thread::JoinHandle<String> {
    let request = format!(
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        // The collector serves keep-alive: end the request stream.
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    })
}

#[test]
fn held_requests_wait_for_release_and_others_pass() {
    let marker = "slow-marker";
    let collector = Collector::start_with(Behaviour::HoldIfBodyContains(marker.into())).unwrap();
    let record = |tool: &str| {
        format!(
            r#"{{"records":[{{"event":"tool","event_timestamp":1,"source":"t","properties":{{"tool_name":"{tool}"}}}}]}}"#
        )
    };
    let slow = post(collector.addr(), &record(marker));
    assert_eq!(collector.wait_for_held(1, Duration::from_secs(10)), 1);
    let fast = post(collector.addr(), &record("fast")).join().unwrap();
    assert!(fast.starts_with("HTTP/1.1 200"), "{fast}");
    assert!(!slow.is_finished());
    assert_eq!(collector.records().len(), 1);
    collector.release_held();
    let slow = slow.join().unwrap();
    assert!(slow.starts_with("HTTP/1.1 200"), "{slow}");
    assert_eq!(collector.records().len(), 2);
    assert_eq!(collector.held(), 0);
}

/// Posts `body` with `Content-Encoding: coding` (none when empty) and
/// returns the answer.
fn post_encoded(addr: SocketAddr, coding: &str, body: &[u8]) -> String {
    let coding = if coding.is_empty() {
        String::new()
    } else {
        format!("Content-Encoding: {coding}\r\n")
    };
    let head = format!(
        "POST /v1/events HTTP/1.1\r\nHost: x\r\n{coding}Content-Length: {}\r\n\r\n",
        body.len()
    );
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn gzip_and_identity_bodies_are_accepted_and_kept_inflated() {
    let collector = Collector::start().unwrap();
    let body =
        br#"{"records":[{"event":"tool","event_timestamp":1,"source":"a","properties":{}}]}"#;
    let compressed = gzip(body);
    for (coding, wire) in [
        ("gzip", &compressed[..]),
        ("identity", &body[..]),
        ("", &body[..]),
    ] {
        let answer = post_encoded(collector.addr(), coding, wire);
        assert!(answer.starts_with("HTTP/1.1 200"), "{coding}: {answer}");
    }
    let requests = collector.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|request| request.body == body));
    assert_eq!(requests[0].wire_body, compressed);
    assert_eq!(collector.records().len(), 3);
}

/// A gzip bomb: 17 MiB of zeros inflate past the 16 MiB body limit.
#[test]
fn a_body_that_inflates_past_the_limit_is_refused_with_413() {
    let collector = Collector::start().unwrap();
    let bomb = gzip(&vec![b' '; 17 * 1024 * 1024]);
    assert!(bomb.len() < 100 * 1024, "{}", bomb.len());
    let answer = post_encoded(collector.addr(), "gzip", &bomb);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(collector.records().is_empty());
    let answer = post_encoded(collector.addr(), "br", b"{}");
    assert!(answer.starts_with("HTTP/1.1 415"), "{answer}");
    let answer = post_encoded(collector.addr(), "gzip", b"not gzip");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}
