//! A small HTTP/1.1 server on `std`: one thread per connection (so one slow
//! client never holds up another), a deadline (10 s unless `serve
//! --request-timeout` says otherwise) for each request's head and body (a
//! connection that misses it is closed unanswered), a cap on the body's
//! size checked before reading it, keep-alive, and a graceful stop that
//! gives the requests in flight a grace period.
//!
//! Request bodies must come with `Content-Length` (411 otherwise), as every
//! OTLP and toolkit sender sends them.

mod request;

pub use request::{HttpRequest, HttpResponse};

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a request's head and body may take to arrive, by default.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// Connections served at once; one more is answered 503 and closed.
pub const MAX_CONNECTIONS: usize = 256;
/// The largest request head.
pub const MAX_HEAD: usize = 64 * 1024;

/// What answers each request.
pub type Handler = dyn Fn(HttpRequest) -> HttpResponse + Send + Sync;

/// Counters shared by the acceptor and the connections.
#[derive(Default)]
pub struct Activity {
    in_flight: AtomicUsize,
    connections: AtomicUsize,
    stopping: AtomicBool,
}

impl Activity {
    /// Requests whose head has started to arrive and whose answer is not
    /// sent yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

/// Serves `listener` until `stop` is set, then stops accepting and waits up
/// to `grace` for the requests in flight; returns how many were still in
/// flight when it gave up (their connections are dropped with the process).
/// Each request's head and body must arrive within `request_deadline`.
pub fn serve(
    listener: TcpListener,
    handler: Arc<Handler>,
    stop: &AtomicBool,
    grace: Duration,
    request_deadline: Duration,
) -> usize {
    let activity = Arc::new(Activity::default());
    if listener.set_nonblocking(true).is_err() {
        return 0;
    }
    while !stop.load(Ordering::SeqCst) {
        if !wait_readable(&listener, Duration::from_millis(100)) {
            continue;
        }
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(_) => continue,
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_nodelay(true);
        if activity.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            activity.connections.fetch_sub(1, Ordering::SeqCst);
            let mut stream = stream;
            let _ = HttpResponse::text(503, "too many connections\n").write_to(&mut stream, false);
            continue;
        }
        let (activity, handler) = (Arc::clone(&activity), Arc::clone(&handler));
        let spawned = std::thread::Builder::new()
            .name("collector-conn".into())
            .spawn(move || {
                connection(stream, &*handler, &activity, request_deadline);
                activity.connections.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            // The closure (and its stream) is dropped: the connection closes.
        }
    }
    // Stop accepting: new connections are refused from here on.
    drop(listener);
    activity.stopping.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + grace;
    while activity.in_flight() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    activity.in_flight()
}

/// Waits until the listener has a connection to accept, or `timeout`.
fn wait_readable(listener: &TcpListener, timeout: Duration) -> bool {
    let mut fd = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = libc::c_int::try_from(timeout.as_millis()).unwrap_or(100);
    // SAFETY: one valid pollfd, for the duration of the call.
    let ready = unsafe { libc::poll(&mut fd, 1, millis) };
    ready > 0
}

/// Marks a request in flight until dropped.
struct InFlight<'a>(&'a Activity);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

fn connection(
    mut stream: TcpStream,
    handler: &Handler,
    activity: &Activity,
    request_deadline: Duration,
) {
    let _ = stream.set_write_timeout(Some(request_deadline));
    let mut buffer: Vec<u8> = Vec::new();
    loop {
        if activity.stopping.load(Ordering::SeqCst) {
            return;
        }
        let deadline = Instant::now() + request_deadline;
        let head = match request::read_head(&mut stream, &mut buffer, deadline) {
            Ok(Some(head)) => head,
            Ok(None) | Err(_) => return,
        };
        activity.in_flight.fetch_add(1, Ordering::SeqCst);
        let _guard = InFlight(activity);
        let parsed = match request::parse_head(&head) {
            Ok(parsed) => parsed,
            Err(response) => {
                let _ = response.write_to(&mut stream, false);
                return;
            }
        };
        let length = match parsed.content_length() {
            Ok(length) => length,
            Err(response) => {
                let _ = response.write_to(&mut stream, false);
                return;
            }
        };
        if length > crate::ingest::gzip::MAX_BODY {
            let _ =
                HttpResponse::json(413, &serde_json::json!({"error": "the body is over 5 MiB"}))
                    .write_to(&mut stream, false);
            return;
        }
        let body = match request::read_body(&mut stream, &mut buffer, length, deadline) {
            Ok(body) => body,
            Err(_) => return,
        };
        let keep_alive = parsed.keep_alive();
        let request = parsed.with_body(body);
        let response = handler(request);
        if response.write_to(&mut stream, keep_alive).is_err() || !keep_alive {
            return;
        }
        let _ = stream.flush();
    }
}

/// Whether an I/O error means the deadline passed.
pub(crate) fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
