//! `retain(false)`: records are checked, answered and counted, not kept.

use std::io::{Read, Write};
use std::net::TcpStream;
use telemetry_collector::Collector;

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
