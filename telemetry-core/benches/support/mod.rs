//! What the benchmarks share: the tracked and plain functions they compare,
//! a sink that discards, clients pointed at a loopback collector, and a raw
//! keep-alive HTTP/1.1 client to measure the floor against, and reqwest's own
//! clients sending the same request, to show what the sink cannot go below.
//!
//! Every benchmark talks to 127.0.0.1 only, runs a bounded number of calls,
//! and stops by itself.

// Each benchmark binary uses part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use telemetry_core::{MemorySink, Outcome, Record, SendError, Sink, Telemetry};

/// The work inside both functions: a few cycles the optimiser cannot remove.
#[inline]
fn work(x: u64) -> u64 {
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) ^ x
}

/// The function without telemetry.
pub fn plain(x: u64) -> u64 {
    work(x)
}

/// The same function, tracked: with telemetry off, one relaxed load more.
#[telemetry_core::tracked_tool(name = "tracked")]
pub fn tracked(x: u64) -> u64 {
    work(x)
}

/// The same pair, never inlined into the caller: a call as it is made
/// across crates or to a larger function.
#[inline(never)]
pub fn plain_outlined(x: u64) -> u64 {
    plain(x)
}

/// See [`plain_outlined`].
#[inline(never)]
#[telemetry_core::tracked_tool(name = "tracked")]
pub fn tracked_outlined(x: u64) -> u64 {
    work(x)
}

/// A sink that drops every record: what is left is the recorder's own cost.
pub struct Discard;

impl Sink for Discard {
    fn send(&self, records: &[Record]) -> Result<(), SendError> {
        std::hint::black_box(records);
        Ok(())
    }
}

/// An enabled client with this sink and no environment, and no cap on
/// records (a benchmark makes millions; past the default cap of 10,000
/// it would time dropping them).
pub fn client_with_sink(sink: impl Sink) -> Telemetry {
    Telemetry::builder("bench", "1.0.0")
        .sink(sink)
        .notice(false)
        .env(|_| None)
        .max_records(u64::MAX)
        .build()
}

/// A loopback collector that checks, answers and counts each request but
/// keeps nothing, so that its memory stays flat over a long run.
pub fn counting_collector() -> telemetry_test_support::collector::Collector {
    telemetry_test_support::collector::Collector::builder()
        .retain(false)
        .start()
        .expect("a loopback collector starts")
}

/// An enabled client that posts to `url` (default timeout unless given).
pub fn http_client(url: &str, timeout: Option<Duration>) -> Telemetry {
    let mut builder = Telemetry::builder("bench", "1.0.0")
        .endpoint(url)
        .notice(false)
        .env(|_| None)
        .max_records(u64::MAX);
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    let telemetry = builder.build();
    assert!(telemetry.is_enabled(), "the benchmark client is off");
    telemetry
}

/// The exact body the telemetry client posts for one call of [`tracked`].
pub fn tool_event_body() -> Vec<u8> {
    let sink = MemorySink::new();
    let telemetry = client_with_sink(sink.clone());
    telemetry.record_tool_call("tracked", "", "", Duration::ZERO, Outcome::Success);
    let records = sink.take();
    let records: Vec<serde_json::Value> = records
        .iter()
        .map(|record| serde_json::to_value(record).expect("a record serialises"))
        .collect();
    serde_json::to_vec(&serde_json::json!({ "records": records })).expect("a body serialises")
}

/// A raw keep-alive HTTP/1.1 client on one `std::net::TcpStream`: the floor
/// an inline sender is measured against. It sends the same headers as the
/// telemetry client and reads the whole answer, as the telemetry client does.
pub struct RawHttp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    request: Vec<u8>,
    answer_body: Vec<u8>,
}

impl RawHttp {
    /// Connects to the collector at `addr` and prepares a POST of `body`.
    pub fn connect(addr: SocketAddr, body: &[u8]) -> RawHttp {
        let stream = TcpStream::connect(addr).expect("the collector accepts");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout");
        let writer = stream.try_clone().expect("the socket clones");
        let mut request = format!(
            "POST /v1/events HTTP/1.1\r\ncontent-type: application/json\r\nuser-agent: bench/1.0.0\r\naccept: */*\r\nhost: {addr}\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        RawHttp {
            reader: BufReader::new(stream),
            writer,
            request,
            answer_body: Vec::new(),
        }
    }

    /// One request and its whole answer; returns the status code.
    pub fn post(&mut self) -> u16 {
        self.writer
            .write_all(&self.request)
            .expect("the request is written");
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("a status line");
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("an HTTP status line");
        let mut length = 0;
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("a header line");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().expect("a Content-Length");
                }
            }
        }
        self.answer_body.resize(length, 0);
        self.reader
            .read_exact(&mut self.answer_body)
            .expect("the answer's body");
        status
    }
}

/// This process's resident set size, in KiB (Linux `/proc/self/status`).
pub fn vm_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The median of some durations (sorts them).
pub fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// A reqwest HTTP/1 client from `$builder` (the async or the blocking
/// client's: their builders are types of their own with the same methods),
/// configured as `HttpSink` configures it for a loopback endpoint (no
/// Nagle delay, no proxy).
macro_rules! as_http_sink_configures {
    ($builder:expr) => {
        $builder
            .http1_only()
            .tcp_nodelay(true)
            .no_proxy()
            .build()
            .expect("a client")
    };
}

/// reqwest's async client driven on this thread by a current-thread runtime,
/// as `HttpSink` drives it outside a runtime, with no record to build.
pub struct ReqwestAsync {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    url: reqwest::Url,
    body: Vec<u8>,
}

impl ReqwestAsync {
    /// A client that posts `body` to `url`.
    pub fn new(url: &str, body: Vec<u8>) -> ReqwestAsync {
        ReqwestAsync {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime"),
            client: as_http_sink_configures!(reqwest::Client::builder()),
            url: url.parse().expect("a URL"),
            body,
        }
    }

    /// Posts the body and reads the answer; returns its status.
    pub fn post(&self) -> u16 {
        self.runtime.block_on(async {
            let response = self
                .client
                .post(self.url.clone())
                .header("content-type", "application/json")
                .body(self.body.clone())
                .send()
                .await
                .expect("an answer");
            let status = response.status().as_u16();
            let _ = response.bytes().await;
            status
        })
    }
}

/// `reqwest::blocking`: each send hops to reqwest's own runtime thread.
pub struct ReqwestBlocking {
    client: reqwest::blocking::Client,
    url: reqwest::Url,
    body: Vec<u8>,
}

impl ReqwestBlocking {
    /// A client that posts `body` to `url`.
    pub fn new(url: &str, body: Vec<u8>) -> ReqwestBlocking {
        ReqwestBlocking {
            client: as_http_sink_configures!(reqwest::blocking::Client::builder()),
            url: url.parse().expect("a URL"),
            body,
        }
    }

    /// Posts the body and reads the answer; returns its status.
    pub fn post(&self) -> u16 {
        let response = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .body(self.body.clone())
            .send()
            .expect("an answer");
        let status = response.status().as_u16();
        let _ = response.bytes();
        status
    }
}
