//! SIGTERM: stop accepting, let the request in flight finish, exit 0.

use crate::harness::{exported, signal, Collector};
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let mut collector = Collector::start(&[]);
    let body =
        json!({"records":[{"event":"command","event_timestamp":1_767_225_600_000_i64,"source":"s",
        "properties":{"event_id":"in-flight"}}]})
        .to_string();
    // A request whose head has arrived, its body not yet.
    let mut stream = TcpStream::connect(collector.addr).unwrap();
    let head = format!(
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal(&collector.child, libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    // New connections are no longer accepted...
    assert!(
        crate::harness::try_connect(collector.addr).is_none(),
        "still accepting"
    );
    // ... and the one in flight is answered.
    stream.write_all(body.as_bytes()).unwrap();
    let mut answer = String::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let status = collector.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(exported(&collector.db).len(), 1);
}
