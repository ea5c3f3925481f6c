//! Ingest rate, side by side: 4 clients posting gzip batches of 500
//! records to `telemetry-collector serve` (release build) and, when it is
//! built (`OTELCOL_CACHE=$PWD/target/otelcol otelcol/build.sh`), the same
//! records as OTLP to the OpenTelemetry Collector with its file exporter
//! (`otelcol/config.yaml`). Also: bytes on disk per record, and the peak
//! RSS of each process. Printed as a table (docs/performance.md).
//!
//! ```text
//! cargo bench -p telemetry-collector --bench ingest
//! INGEST_RECORDS=400000 cargo bench -p telemetry-collector --bench ingest
//! ```
//!
//! Without `--bench` (as under `cargo test --benches`) it only says how to
//! run it.

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CLIENTS: usize = 4;
const BATCH: usize = 500;

fn main() {
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("ingest: run with `cargo bench -p telemetry-collector --bench ingest`");
        return;
    }
    let total: usize = std::env::var("INGEST_RECORDS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(200_000);
    let per_client = total / CLIENTS / BATCH;
    let dir = std::env::temp_dir().join(format!("collector-ingest-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");

    println!(
        "building {} batches of {BATCH} records ...",
        CLIENTS * per_client
    );
    let wire = bodies(per_client, |records| json!({ "records": records }));
    let otlp = bodies(per_client, |records| {
        telemetry_core::otlp::export_logs_request(records)
    });
    let records = CLIENTS * per_client * BATCH;

    let mut rows = Vec::new();
    // telemetry-collector
    let db = dir.join("bench.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_telemetry-collector"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--retention-days",
            "0",
            "--db",
        ])
        .arg(&db)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the collector starts");
    let addr = first_line_addr(&mut child);
    let elapsed = post_all(addr, "/v1/events", &wire);
    let rss = peak_rss_mib(child.id());
    signal_term(&child);
    let _ = child.wait();
    let bytes: u64 = ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", db.display())).ok())
        .map(|meta| meta.len())
        .sum();
    rows.push(row(
        "telemetry-collector (SQLite, WAL)",
        records,
        elapsed,
        rss,
        Some(bytes),
    ));

    // The OpenTelemetry Collector, when built.
    let otelcol = std::env::var_os("OTELCOL_BIN").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/otelcol/bin/otelcol-interop"),
        PathBuf::from,
    );
    if otelcol.is_file() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let output = dir.join("otlp-out.jsonl");
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../otelcol/config.yaml");
        let mut child = Command::new(&otelcol)
            .arg(format!("--config=file:{}", config.display()))
            .env("OTELCOL_HTTP_ENDPOINT", format!("127.0.0.1:{port}"))
            .env("OTELCOL_FILE", &output)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("otelcol starts");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let elapsed = post_all(addr, "/v1/logs", &otlp);
        let rss = peak_rss_mib(child.id());
        let _ = child.kill();
        let _ = child.wait();
        let bytes = std::fs::metadata(&output).map(|meta| meta.len()).ok();
        rows.push(row(
            "OpenTelemetry Collector (otlp → file exporter)",
            records,
            elapsed,
            rss,
            bytes,
        ));
    } else {
        println!(
            "(no OpenTelemetry Collector at {}: build it to compare)",
            otelcol.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!("\n| {CLIENTS} clients, gzip batches of {BATCH}, {records} records | records/s | peak RSS | bytes on disk per record |");
    println!("|---|---|---|---|");
    for line in rows {
        println!("{line}");
    }
}

fn row(name: &str, records: usize, elapsed: Duration, rss_mib: f64, bytes: Option<u64>) -> String {
    let rate = records as f64 / elapsed.as_secs_f64();
    let per_record = bytes.map_or("-".to_owned(), |bytes| {
        format!("{:.0}", bytes as f64 / records as f64)
    });
    format!("| {name} | {rate:.0} | {rss_mib:.0} MiB | {per_record} |")
}

/// A tool record as the toolkit sends it, with a unique id.
fn record(client: usize, batch: usize, index: usize) -> Value {
    let n = (client * 1_000_003 + batch * 1_009 + index) as u64;
    let tool = ["read_file", "search_web", "write_file"][(n % 3) as usize];
    json!({"event":"tool","event_timestamp": 1_767_225_600_000_u64 + n % (90 * 86_400_000),
        "source":"bench-agent","properties":{"action":"call","tool_name": tool,
        "session_id":"7f1c0c52-4b8e-4d0e-9a51-2f4b8f3c2a10","agent_name":"root","duration_ms": n % 900,
        "is_success": n % 7 != 0,"user_uuid": format!("6f1c0c52-4b8e-4d0e-9a51-{:012x}", n % 10_000),
        "version":"1.4.2","os":"linux","os_language":"en-US","arch":"x86_64","ci":false,
        "event_id": format!("{:08x}-4b8e-4d0e-9a51-{:012x}", client, n)}})
}

/// Per client, its gzip bodies.
fn bodies(per_client: usize, encode: impl Fn(&[Value]) -> Value) -> Vec<Vec<Vec<u8>>> {
    (0..CLIENTS)
        .map(|client| {
            (0..per_client)
                .map(|batch| {
                    let records: Vec<Value> = (0..BATCH)
                        .map(|index| record(client, batch, index))
                        .collect();
                    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
                    encoder
                        .write_all(encode(&records).to_string().as_bytes())
                        .unwrap();
                    encoder.finish().unwrap()
                })
                .collect()
        })
        .collect()
}

/// Posts every client's bodies over one keep-alive connection per client,
/// all clients at once; returns the wall time.
fn post_all(addr: SocketAddr, path: &'static str, bodies: &[Vec<Vec<u8>>]) -> Duration {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for client in bodies {
            scope.spawn(move || {
                let mut stream = TcpStream::connect(addr).expect("connect");
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                for body in client {
                    let head = format!(
                        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    stream.write_all(head.as_bytes()).unwrap();
                    stream.write_all(body).unwrap();
                    let status = read_response(&mut reader);
                    assert_eq!(status, 200, "{path}");
                }
            });
        }
    });
    started.elapsed()
}

fn read_response(reader: &mut BufReader<TcpStream>) -> u16 {
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    status
}

fn first_line_addr(child: &mut Child) -> SocketAddr {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim()
        .trim_start_matches("listening on http://")
        .parse()
        .expect("an address")
}

fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn signal_term(child: &Child) {
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
}
