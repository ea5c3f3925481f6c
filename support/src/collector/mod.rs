//! A small loopback HTTP/1.1 collector that speaks the toolkit's wire format.
//!
//! The toolkit's tests, examples and benchmarks send real HTTP to it on
//! 127.0.0.1; it keeps what it received so that a test can assert on it, and
//! it can misbehave on purpose (slow, silent, failing, resetting) to test the
//! sender. It depends on `std`, `serde_json` and `flate2` only, and binds
//! loopback addresses only. It accepts identity and gzip bodies
//! (`Content-Encoding`); a gzip body that inflates past the body limit
//! (16 MiB) is refused with 413, another coding with 415.
//!
//! ```ignore
//! use telemetry_test_support::collector::Collector;
//!
//! let collector = Collector::start().unwrap();
//! // ... point a client at collector.url() ...
//! assert_eq!(collector.records().len(), 0);
//! ```

mod http;
mod wire;

pub use wire::check_body;

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the collector answers each request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// Validates the body; 200 and keeps its records, or 400 with a reason.
    Accept,
    /// Keeps the records, then answers with this status (for example 500).
    Status(u16),
    /// Keeps the records, waits this long, then answers 200.
    Delay(Duration),
    /// Reads the request and never answers (the connection stays open).
    Blackhole,
    /// Reads the request head, then resets the connection (RST).
    Reset,
    /// Answers with bytes that are not HTTP, then closes.
    Garbage,
    /// Answers 200 as if keeping the connection alive, then closes it at
    /// once: the client's pooled connection is stale on its next request.
    CloseAfterAnswer,
    /// Keeps the records, then closes the connection without answering: a
    /// server that read the request and died (or a proxy that dropped the
    /// answer). A client that sends the request again delivers it twice.
    CloseAfterReading,
    /// Keeps the records and sends a 200 head that promises a body, then
    /// nothing more (the connection stays open): an answer that stalls
    /// half-way.
    StallAfterHead,
    /// Holds each request whose body contains this text unanswered until
    /// [`Collector::release_held`] (or the collector's drop), then accepts
    /// it; accepts every other request at once. A test uses it to keep one
    /// request in flight for as long as it needs, with no timing guess.
    HoldIfBodyContains(String),
    /// Keeps the request but none of its records, and answers this status
    /// with `Retry-After: <the text>` (seconds or an HTTP date): a
    /// collector asking to come back later.
    Throttle(u16, String),
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    /// The request target, such as `/v1/events`.
    pub path: String,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, inflated when it came gzipped (`Content-Encoding: gzip`).
    pub body: Vec<u8>,
    /// The body as it came on the wire.
    pub wire_body: Vec<u8>,
}

impl Request {
    /// The first header with this (lowercase) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Default)]
struct Received {
    requests: Vec<Request>,
    records: Vec<serde_json::Value>,
}

/// Requests held by [`Behaviour::HoldIfBodyContains`].
#[derive(Default)]
struct Gate {
    held: usize,
    released: bool,
}

struct Shared {
    behaviour: Mutex<Behaviour>,
    gate: Mutex<Gate>,
    gate_changed: Condvar,
    received: Mutex<Received>,
    arrived: Condvar,
    connections: AtomicUsize,
    stopping: AtomicBool,
    echo: bool,
    retain: bool,
    records_received: AtomicUsize,
}

impl Shared {
    fn behaviour(&self) -> Behaviour {
        self.behaviour
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn received(&self) -> std::sync::MutexGuard<'_, Received> {
        self.received.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn gate(&self) -> std::sync::MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks the calling connection until the held requests are released.
    fn hold(&self) {
        let mut gate = self.gate();
        gate.held += 1;
        self.gate_changed.notify_all();
        while !gate.released {
            gate = self
                .gate_changed
                .wait(gate)
                .unwrap_or_else(PoisonError::into_inner);
        }
        gate.held -= 1;
        self.gate_changed.notify_all();
    }
}

/// A running collector; it stops when dropped.
pub struct Collector {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

/// Configures a [`Collector`].
#[derive(Debug, Clone)]
pub struct CollectorBuilder {
    addr: SocketAddr,
    behaviour: Behaviour,
    echo: bool,
    retain: bool,
}

impl CollectorBuilder {
    /// The loopback address to bind (default `127.0.0.1:0`, a free port).
    /// A non-loopback address is refused.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// How to answer (default [`Behaviour::Accept`]).
    pub fn behaviour(mut self, behaviour: Behaviour) -> Self {
        self.behaviour = behaviour;
        self
    }

    /// Prints each accepted record as one JSON line on stdout.
    pub fn echo(mut self, echo: bool) -> Self {
        self.echo = echo;
        self
    }

    /// Whether to keep each request and its records for [`Collector::records`]
    /// and [`Collector::requests`] (default `true`). With `false` they are
    /// checked, answered and counted ([`Collector::records_received`]), then
    /// dropped: for long benchmark runs whose memory must stay flat.
    pub fn retain(mut self, retain: bool) -> Self {
        self.retain = retain;
        self
    }

    /// Binds and starts accepting connections on a background thread.
    pub fn start(self) -> io::Result<Collector> {
        if !self.addr.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the collector only listens on loopback addresses",
            ));
        }
        let listener = TcpListener::bind(self.addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            behaviour: Mutex::new(self.behaviour),
            gate: Mutex::new(Gate::default()),
            gate_changed: Condvar::new(),
            received: Mutex::new(Received::default()),
            arrived: Condvar::new(),
            connections: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            echo: self.echo,
            retain: self.retain,
            records_received: AtomicUsize::new(0),
        });
        let for_acceptor = Arc::clone(&shared);
        let acceptor = std::thread::Builder::new()
            .name("collector-accept".into())
            .spawn(move || accept_loop(&listener, &for_acceptor))?;
        Ok(Collector {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }
}

impl Collector {
    /// Configures a collector.
    pub fn builder() -> CollectorBuilder {
        CollectorBuilder {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            behaviour: Behaviour::Accept,
            echo: false,
            retain: true,
        }
    }

    /// Starts an accepting collector on a free loopback port.
    pub fn start() -> io::Result<Collector> {
        Collector::builder().start()
    }

    /// Starts a collector with this behaviour on a free loopback port.
    pub fn start_with(behaviour: Behaviour) -> io::Result<Collector> {
        Collector::builder().behaviour(behaviour).start()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint URL: `http://127.0.0.1:<port>/v1/events`.
    pub fn url(&self) -> String {
        format!("http://{}/v1/events", self.addr)
    }

    /// Changes how later requests are answered.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        *self
            .shared
            .behaviour
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = behaviour;
    }

    /// Every record received so far (from valid bodies), oldest first.
    pub fn records(&self) -> Vec<serde_json::Value> {
        self.shared.received().records.clone()
    }

    /// Every request received so far, valid or not, oldest first.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.received().requests.clone()
    }

    /// Records received so far in valid bodies, counted also when the
    /// collector does not [`retain`](CollectorBuilder::retain) them.
    pub fn records_received(&self) -> usize {
        self.shared.records_received.load(Ordering::SeqCst)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Waits until at least `count` records have arrived or `timeout` has
    /// passed; returns the records received by then.
    pub fn wait_for_records(&self, count: usize, timeout: Duration) -> Vec<serde_json::Value> {
        let received = wait_until(
            self.shared.received(),
            &self.shared.arrived,
            timeout,
            |received| received.records.len() >= count,
        );
        received.records.clone()
    }

    /// Requests currently held by [`Behaviour::HoldIfBodyContains`].
    pub fn held(&self) -> usize {
        self.shared.gate().held
    }

    /// Waits until at least `count` requests are held or `timeout` has
    /// passed; returns how many are held by then.
    pub fn wait_for_held(&self, count: usize, timeout: Duration) -> usize {
        let gate = wait_until(
            self.shared.gate(),
            &self.shared.gate_changed,
            timeout,
            |gate| gate.held >= count,
        );
        gate.held
    }

    /// Lets every held request, and any later one that matches, through.
    pub fn release_held(&self) {
        self.shared.gate().released = true;
        self.shared.gate_changed.notify_all();
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.release_held();
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept so that the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        let shared = Arc::clone(shared);
        let _ = std::thread::Builder::new()
            .name("collector-conn".into())
            .spawn(move || http::serve_connection(stream, &shared));
    }
}

/// Waits on `changed` until `done` holds for the guarded value or `timeout`
/// has passed; returns the guard either way.
fn wait_until<'a, T>(
    mut guard: MutexGuard<'a, T>,
    changed: &Condvar,
    timeout: Duration,
    done: impl Fn(&T) -> bool,
) -> MutexGuard<'a, T> {
    let deadline = Instant::now() + timeout;
    while !done(&guard) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        guard = changed
            .wait_timeout(guard, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    guard
}
