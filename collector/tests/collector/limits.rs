//! Malformed, oversized and gzip-bomb bodies, and a slow client, get their
//! answers while other clients are served.

use crate::harness::{gzip, read_answer, request, Collector};
use serde_json::json;
use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn good_record(id: &str) -> serde_json::Value {
    json!({"event":"command","event_timestamp":1_767_225_600_000_i64,"source":"limits",
           "properties":{"action":"run","is_success":true,"duration_ms":3,"user_uuid":"u","event_id":id}})
}

#[test]
fn malformed_bodies_and_unusable_records_get_their_answers() {
    let collector = Collector::start(&[]);
    let (status, answer) = collector.post("/v1/events", b"not json", &[]);
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("not JSON"),
        "{answer}"
    );
    let (status, answer) = collector.post("/v1/events", b"{\"rows\":[]}", &[]);
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("records"),
        "{answer}"
    );
    let (status, answer) = collector.post("/v1/logs", b"{\"records\":[]}", &[]);
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("resourceLogs"),
        "{answer}"
    );
    // Unusable records are skipped and counted; a duplicate counts as accepted.
    let body = json!({"records": [
        good_record("a"), good_record("a"), 7, {"event":"x","source":"limits"},
        {"event":"x","event_timestamp":"soon","source":"limits"},
        {"event":"x","event_timestamp":1,"source":5},
    ]});
    let (status, answer) = collector.post("/v1/events", body.to_string().as_bytes(), &[]);
    assert_eq!(
        (status, answer),
        (200, json!({"accepted": 2, "rejected": 4}))
    );
    // OTLP: a log record without eventName is rejected as a partial success.
    let mut otlp = telemetry_core::otlp::export_logs_request([&good_record("b")]);
    otlp["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
        .as_array_mut()
        .unwrap()
        .push(json!({"timeUnixNano":"1"}));
    let (status, answer) = collector.post("/v1/logs", otlp.to_string().as_bytes(), &[]);
    assert_eq!(status, 200);
    assert_eq!(answer["partialSuccess"]["rejectedLogRecords"], "1");
    // A gzip body that does not inflate.
    let (status, _) = collector.post(
        "/v1/events",
        b"\x1f\x8b garbage",
        &[("Content-Encoding", "gzip")],
    );
    assert_eq!(status, 400);
    let stored = crate::harness::exported(&collector.db);
    assert_eq!(stored.len(), 2);
}

#[test]
fn oversized_bodies_and_gzip_bombs_get_413_and_memory_stays_bounded() {
    let collector = Collector::start(&[]);
    // Over 5 MiB announced: refused before the body is read.
    let mut stream = TcpStream::connect(collector.addr).unwrap();
    let head = format!(
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        6 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).unwrap();
    let answer = read_answer(&mut stream).expect("an answer before the body");
    assert_eq!(answer.status, 413);
    // A 1 GiB gzip bomb (about 1 MiB on the wire): 413, and the collector's
    // memory stays far below the bomb's size.
    let bomb = gzip_bomb(1024);
    assert!(bomb.len() < 5 * 1024 * 1024, "{}", bomb.len());
    let answer = request(
        collector.addr,
        "POST",
        "/v1/events",
        &bomb,
        &[("Content-Encoding", "gzip")],
    );
    assert_eq!(
        answer.status,
        413,
        "{:?}",
        String::from_utf8_lossy(&answer.body)
    );
    assert!(answer.json()["error"].as_str().unwrap().contains("20 MiB"));
    let rss = peak_rss_kib(collector.child.id());
    assert!(rss < 200 * 1024, "peak RSS {rss} KiB");
    // Still serving.
    assert_eq!(collector.post_records(&[good_record("after")]).0, 200);
}

/// One gzip member that inflates to `mib` MiB of spaces, made without
/// deflating them all: one MiB deflated up to a full flush (byte-aligned,
/// nothing refers back past it) is repeated for every MiB, then the final
/// block and the trailer (the CRC-32 of the whole, combined from the one
/// MiB's; the size modulo 2^32).
fn gzip_bomb(mib: u32) -> Vec<u8> {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    let spaces = vec![b' '; 1024 * 1024];
    let mut deflate = Compress::new(Compression::best(), false);
    let mut block = Vec::with_capacity(64 * 1024);
    deflate
        .compress_vec(&spaces, &mut block, FlushCompress::Full)
        .unwrap();
    assert_eq!(deflate.total_in(), spaces.len() as u64, "one MiB in");
    let mut last = Vec::with_capacity(64);
    deflate
        .compress_vec(&[], &mut last, FlushCompress::Finish)
        .unwrap();
    let mut one = Crc::new();
    one.update(&spaces);
    let mut whole = Crc::new();
    // Header: magic, deflate, no flags, no time, best compression, Unix.
    let mut bomb = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3];
    for _ in 0..mib {
        bomb.extend_from_slice(&block);
        whole.combine(&one);
    }
    bomb.extend_from_slice(&last);
    bomb.extend_from_slice(&whole.sum().to_le_bytes());
    bomb.extend_from_slice(&whole.amount().to_le_bytes());
    bomb
}

#[test]
fn the_gzip_bomb_inflates_to_what_it_claims() {
    let mut inflated = 0u64;
    let bomb = gzip_bomb(3);
    let mut decoder = flate2::read::GzDecoder::new(bomb.as_slice());
    let mut buffer = vec![0; 64 * 1024];
    loop {
        match std::io::Read::read(&mut decoder, &mut buffer).unwrap() {
            0 => break,
            read => {
                assert!(buffer[..read].iter().all(|byte| *byte == b' '));
                inflated += read as u64;
            }
        }
    }
    assert_eq!(
        inflated,
        3 * 1024 * 1024,
        "a valid member, CRC and size checked"
    );
}

/// The process's peak resident set (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn a_slow_client_is_cut_at_the_deadline_while_others_are_served() {
    let collector = Collector::start(&["--request-timeout", "3"]);
    // Sends half a head, then nothing.
    let mut slow = TcpStream::connect(collector.addr).unwrap();
    slow.write_all(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Le")
        .unwrap();
    // And one that sends its head and a part of its body.
    let mut slow_body = TcpStream::connect(collector.addr).unwrap();
    slow_body
        .write_all(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"rec")
        .unwrap();
    let started = Instant::now();
    // Others are served meanwhile, at once.
    for index in 0..20 {
        let (status, _) = collector.post_records(&[good_record(&format!("fast-{index}"))]);
        assert_eq!(status, 200);
    }
    // ... while the slow connections are still open, unanswered.
    for stream in [&slow, &slow_body] {
        stream.set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        let read = std::io::Read::read(&mut &*stream, &mut byte);
        assert!(
            matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "{read:?}"
        );
        stream.set_nonblocking(false).unwrap();
    }
    // The slow ones are closed unanswered after the 3 s deadline.
    for stream in [&mut slow, &mut slow_body] {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut bytes = Vec::new();
        let _ = std::io::Read::read_to_end(stream, &mut bytes);
        assert!(
            bytes.is_empty(),
            "no answer: {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(2_500), "{waited:?}");
    assert!(waited < Duration::from_secs(20), "{waited:?}");
    assert_eq!(crate::harness::exported(&collector.db).len(), 20);
}

#[test]
fn gzip_and_identity_bodies_store_the_same_records() {
    let collector = Collector::start(&[]);
    let body = json!({"records": [good_record("g1")]}).to_string();
    let (status, _) = collector.post(
        "/v1/events",
        &gzip(body.as_bytes()),
        &[("Content-Encoding", "gzip")],
    );
    assert_eq!(status, 200);
    let (status, answer) = collector.post("/v1/events", body.as_bytes(), &[]);
    assert_eq!(
        (status, answer),
        (200, json!({"accepted": 1, "rejected": 0}))
    );
    assert_eq!(
        crate::harness::exported(&collector.db),
        vec![good_record("g1")]
    );
}
