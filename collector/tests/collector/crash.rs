//! SIGKILL during a stream of posts: every acknowledged record is there
//! after a restart, and every request is there whole or not at all.

use crate::harness::{exported, Collector};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PER_REQUEST: usize = 200;

fn batch(client: usize, request: usize) -> Vec<Value> {
    (0..PER_REQUEST)
        .map(|index| {
            json!({"event":"tool","event_timestamp": 1_767_225_600_000_i64 + index as i64,
                   "source":"crash","properties":{"tool_name":"t","is_success":true,"duration_ms":1,
                   "user_uuid":"u","request": format!("{client}-{request}"),
                   "event_id": format!("{client}-{request}-{index}")}})
        })
        .collect()
}

fn post(addr: SocketAddr, records: &[Value]) -> Option<u16> {
    use std::io::{Read, Write};
    let body = json!({ "records": records }).to_string();
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    let head = format!(
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split(' ').nth(1)?.parse().ok()
}

#[test]
fn sigkill_loses_no_acknowledged_record_and_stores_no_partial_request() {
    let collector = Collector::start(&[]);
    let addr = collector.addr;
    let acknowledged: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (acknowledged, stop) = (Arc::clone(&acknowledged), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut request = 0;
                while !stop.load(Ordering::SeqCst) {
                    if post(addr, &batch(client, request)) == Some(200) {
                        acknowledged
                            .lock()
                            .unwrap()
                            .insert(format!("{client}-{request}"));
                    }
                    request += 1;
                }
            })
        })
        .collect();
    // Kill once a few requests are acknowledged, while others are in flight.
    while acknowledged.lock().unwrap().len() < 12 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let (dir, db) = collector.kill();
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }
    // Restart on the same file: it opens (recovering the WAL).
    let restarted = Collector::start_on(dir, db, &[]);
    let stored = exported(&restarted.db);
    let mut per_request: BTreeMap<String, usize> = BTreeMap::new();
    for record in &stored {
        *per_request
            .entry(record["properties"]["request"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    for request in acknowledged.lock().unwrap().iter() {
        assert_eq!(
            per_request.get(request),
            Some(&PER_REQUEST),
            "acknowledged request {request}"
        );
    }
    for (request, count) in &per_request {
        assert_eq!(
            *count, PER_REQUEST,
            "request {request} is stored whole or not at all"
        );
    }
}
