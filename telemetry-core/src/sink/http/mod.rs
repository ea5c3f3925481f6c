//! The default sink: one HTTP POST per call, sent inline, never in the way.
//!
//! # How a send is driven
//!
//! `reqwest`'s blocking client hands every request to a runtime thread of its
//! own and waits for the answer (measured 1.39× a raw socket round trip), and
//! it panics in debug builds when called inside an async runtime. This sink
//! uses reqwest's async client instead, driven in one of two ways:
//!
//! - **Outside an async runtime** (the common case for a CLI): each thread
//!   keeps its own small current-thread tokio runtime and client, created on
//!   its first send, and drives the request itself with `block_on`. No thread
//!   hop, no lock; each thread reuses its own keep-alive connection. The
//!   main thread's runtime is never shut down: it would live until the
//!   process ends anyway, and at exit the kernel closes its connection, so
//!   a short run does not pay for the teardown.
//! - **Inside a tokio runtime** (`block_on` there would panic): the request
//!   runs on one shared background thread, started on first use, and the
//!   caller waits for its answer. The caller's worker is busy for exactly the
//!   length of the send, as with any blocking call.
//!
//! Either way no lock is held while the request is in flight, and every
//! request is bounded by the timeout (default 2 s).
//!
//! # Failures
//!
//! A non-2xx answer is reported as [`SendError::Rejected`] and delivery goes
//! on. A transport failure (refused, timed out, DNS, broken connection) stops
//! delivery for the rest of the process: an offline machine pays at most one
//! timeout. So does an answer whose body stalls until the timeout, even
//! after a 2xx head: otherwise every later event would pay the timeout too.
//! # The process's time budget
//!
//! Besides the per-request timeout, the sink has a time budget for slow
//! answers in the whole process (default 2 × the timeout;
//! [`HttpSink::time_budget`]). Each request is charged its wait beyond
//! 100 ms (a prompt answer, even from across the world, is free, so a busy
//! long-running process with a healthy collector never runs out), summed
//! over all threads. A request's deadline is the nearer of its timeout and
//! what is left of the budget (plus those 100 ms); once the budget is
//! spent, delivery stops for the rest of the process
//! ([`SendError::BudgetSpent`], said once in the debug log). A collector
//! that answers just under the timeout therefore costs a process about the
//! budget (at most the budget plus one timeout), not the timeout times the
//! number of events.
//!
//! # No request is sent twice
//!
//! A POST that failed after it was written may have been read by the
//! collector (one that reads the body and then closes the connection
//! without answering): sending it again would deliver it twice. What is
//! retried, and why:
//!
//! - hyper's own retry (`retry_canceled_requests`, on in reqwest's client):
//!   a request still queued, never written, when its pooled connection
//!   turned out to be closed goes on a fresh connection. Before each send
//!   the thread's idle connections get a turn, so that one the server
//!   closed while idle sees its close and takes this path.
//! - The sink's one retry: a request that failed with no answer at all on
//!   a *reused* connection (no connection was opened for it: the client's
//!   connector counts the connections it opens for each request, so that
//!   concurrent requests on one runtime do not mix their counts) is sent
//!   once more, on a fresh connection,
//!   within the same deadline. That is a keep-alive connection the server
//!   closed just as the request was written (its close was still on the
//!   wire), the race every HTTP client meets; browsers retry it the same
//!   way.
//! - Never retried: a failure on a fresh connection (the server accepted
//!   it and may have read the request), a timeout, a refused connection,
//!   and any failure after the answer began.
//!
//! TCP cannot prove that a written request was not read: a server that
//! reads a request on a kept-alive connection and then closes it without
//! answering gets that request twice, and `event_id` lets it drop the
//! second. A server that closes every connection after reading a request
//! never gets one twice.
//!
//! Each failure is named by its cause (timed out, DNS, refused, TLS
//! certificate, TLS handshake, reset), never with the URL: see
//! `failure.rs`.
//!
//! # Where requests go
//!
//! Proxy variables (`HTTPS_PROXY`, `NO_PROXY`, ...) are read from the
//! client's environment and honoured, except for a loopback endpoint,
//! which is always reached directly (the rules: `route.rs`). The API key
//! is sent over `https`, or to this machine, only; a user name or password
//! in the endpoint URL is refused. Redirects are not followed.

mod budget;
pub(crate) mod deadline;
mod driver;
pub(crate) mod endpoint;
mod failure;
mod request;
pub(crate) mod route;

use super::protocol::Protocol;
use super::{Compression, FailurePolicy, SendError, Sink, DEFAULT_TIMEOUT};
use crate::delivery::backoff::Backoff;
use crate::env::Env;
use crate::record::Record;
use budget::{default_time_budget, Budget, PROMPT_ANSWER};
use bytes::Bytes;
use driver::{send_on_background_thread, send_on_this_thread};
use endpoint::parse_endpoint;
use request::Failure;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT,
};
use reqwest::Url;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Sends records as `{"records":[...]}` in one HTTP POST per call.
#[derive(Clone)]
pub struct HttpSink {
    shared: Arc<Shared>,
}

struct Shared {
    url: Url,
    headers: HeaderMap,
    timeout: Duration,
    /// The proxy that carries the requests; `None`: direct.
    proxy: Option<Url>,
    stopped: AtomicBool,
    /// What goes on the wire and what an answer means.
    protocol: Protocol,
    /// Set once delivery stopped because the time budget was spent.
    budget_spent: AtomicBool,
    budget: Budget,
    /// When the collector asked to wait (see `delivery::backoff`).
    backoff: Arc<Backoff>,
    /// How bodies are compressed (`Content-Encoding`).
    compression: Compression,
}

/// A setting [`HttpSink::new`] cannot use; the message says which and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSetting(pub(crate) String);

impl fmt::Display for InvalidSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidSetting {}

impl HttpSink {
    /// A sink that posts to `endpoint` (an `http` or `https` URL with a
    /// host), with the given `User-Agent`, optional `x-api-key`, and
    /// per-request timeout, through the proxy the process environment names
    /// for it. Nothing is opened until the first send.
    ///
    /// The key is attached only over `https` or to a loopback host: to
    /// plain `http` on another machine the records go without it.
    ///
    /// # Errors
    ///
    /// [`InvalidSetting`] when the endpoint is not an `http` or `https` URL
    /// with a host, or carries a user name or password; when the user agent
    /// or key cannot be a header value; or when a proxy variable names no
    /// usable `http` or `https` proxy.
    pub fn new(
        endpoint: &str,
        user_agent: &str,
        api_key: Option<&str>,
        timeout: Duration,
    ) -> Result<HttpSink, InvalidSetting> {
        HttpSink::with_env(endpoint, user_agent, api_key, timeout, &Env::process())
    }

    /// [`HttpSink::new`], with the proxy variables read from `env`.
    pub(crate) fn with_env(
        endpoint: &str,
        user_agent: &str,
        api_key: Option<&str>,
        timeout: Duration,
        env: &Env,
    ) -> Result<HttpSink, InvalidSetting> {
        let (url, headers, proxy) = HttpSink::checked(endpoint, user_agent, api_key, env)?;
        let backoff = Arc::new(Backoff::new(endpoint));
        let timeout = if timeout.is_zero() {
            DEFAULT_TIMEOUT
        } else {
            timeout
        };
        Ok(HttpSink {
            shared: Arc::new(Shared {
                url,
                headers,
                timeout,
                proxy,
                stopped: AtomicBool::new(false),
                protocol: Protocol::Records,
                budget_spent: AtomicBool::new(false),
                budget: Budget::new(default_time_budget(timeout)),
                backoff,
                compression: Compression::None,
            }),
        })
    }

    /// Every check [`HttpSink::with_env`] makes, without making a sink: the
    /// URL, the headers and the proxy a sink would use.
    pub(crate) fn checked(
        endpoint: &str,
        user_agent: &str,
        api_key: Option<&str>,
        env: &Env,
    ) -> Result<(Url, HeaderMap, Option<Url>), InvalidSetting> {
        let url = parse_endpoint(endpoint)?;
        let api_key = api_key.filter(|_| route::key_may_travel(&url));
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let agent = HeaderValue::from_str(user_agent).map_err(|_| {
            InvalidSetting("the User-Agent has characters a header cannot carry".into())
        })?;
        headers.insert(USER_AGENT, agent);
        if let Some(key) = api_key {
            let mut value = HeaderValue::from_str(key).map_err(|_| {
                InvalidSetting("the API key has characters a header cannot carry".into())
            })?;
            value.set_sensitive(true);
            headers.insert("x-api-key", value);
        }
        let proxy = route::proxy_for(&url, env)?;
        Ok((url, headers, proxy))
    }

    /// `true` when requests carry the `x-api-key` header.
    pub(crate) fn sends_api_key(&self) -> bool {
        self.shared.headers.contains_key("x-api-key")
    }

    /// Compresses request bodies (default [`Compression::None`]; an
    /// [`OtlpSink`](crate::OtlpSink) defaults to gzip). Without the `gzip`
    /// feature, `Gzip` sends bodies as they are.
    #[must_use]
    pub fn compression(mut self, compression: Compression) -> HttpSink {
        let compression = compression.available();
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.compression = compression;
            if compression == Compression::Gzip {
                shared
                    .headers
                    .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            } else {
                shared.headers.remove(CONTENT_ENCODING);
            }
        }
        self
    }

    /// Adds a header to every request; its value is never printed. A name
    /// the sink sets itself (`Content-Type`, `Content-Encoding`,
    /// `User-Agent`, `x-api-key`, `Host`, `Content-Length`) is refused.
    ///
    /// # Errors
    ///
    /// [`InvalidSetting`] when the name or value cannot be an HTTP header,
    /// or the name is one the sink sets; the message never holds the value.
    pub fn header(self, name: &str, value: &str) -> Result<HttpSink, InvalidSetting> {
        let (name, value) = check_header(name, value)?;
        Ok(self.checked_header(name, value))
    }

    /// Adds a header [`check_header`] accepted.
    pub(crate) fn checked_header(mut self, name: HeaderName, value: HeaderValue) -> HttpSink {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.headers.append(name, value);
        }
        self
    }

    /// The same sink, with the back-off `backoff` (keyed by the endpoint
    /// as configured; called right after `new`).
    pub(crate) fn with_backoff(mut self, backoff: Arc<Backoff>) -> HttpSink {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.backoff = backoff;
        }
        self
    }

    /// The same sink, speaking `protocol` (called right after `new`, while
    /// the state is not yet shared).
    pub(super) fn speaking(mut self, protocol: Protocol) -> HttpSink {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.protocol = protocol;
        }
        self
    }

    /// Sets the process's time budget: the most wall time this sink waits
    /// on the collector in all (default 2 × the timeout; zero means the
    /// default). Once spent, delivery stops for the rest of the process.
    #[must_use]
    pub fn time_budget(self, budget: Duration) -> HttpSink {
        let budget = if budget.is_zero() {
            default_time_budget(self.shared.timeout)
        } else {
            budget
        };
        self.shared.budget.set_limit(budget);
        self
    }

    /// Posts one encoded body: within the timeout and what is left of the
    /// budget, once, never resent (see the module docs).
    fn send_body(&self, body: Bytes) -> Result<(), SendError> {
        let shared = &self.shared;
        if shared.stopped.load(Ordering::Relaxed) {
            return Err(self.stopped_error());
        }
        if let Some(until_ms) = shared.backoff.waiting_until() {
            return Err(SendError::Backoff { until_ms });
        }
        let left = shared.budget.left();
        if left.is_zero() {
            return Err(self.stop(SendError::BudgetSpent(shared.budget.limit())));
        }
        let timeout = shared.timeout.min(left.saturating_add(PROMPT_ANSWER));
        // A flush sending on its own thread ends by its exit budget.
        let caller_left = deadline::left();
        if caller_left.is_some_and(|left| left.is_zero()) {
            return Err(SendError::Transport(CALLER_DEADLINE.into()));
        }
        let cut_by_caller = caller_left.is_some_and(|left| left < timeout);
        let timeout = caller_left.map_or(timeout, |left| timeout.min(left));
        let started = Instant::now();
        let result = if tokio::runtime::Handle::try_current().is_ok() {
            send_on_background_thread(shared, body, timeout)
        } else {
            send_on_this_thread(shared, body, timeout)
        };
        shared.budget.charge(started.elapsed());
        let result = match result {
            Ok(()) => {
                shared.backoff.succeeded();
                Ok(())
            }
            Err(Failure::RetryAfter(wait, error)) => {
                shared.backoff.asked_to_wait(wait);
                Err(error)
            }
            Err(Failure::Final(error @ SendError::PartlyRejected { .. })) => {
                shared.backoff.succeeded();
                Err(error)
            }
            Err(failure) => Err(failure.into_send_error()),
        };
        match result {
            // The caller's limit, not the collector's failure: delivery
            // goes on, and no back-off is remembered.
            Err(SendError::Transport(_)) if cut_by_caller && started.elapsed() >= timeout => {
                Err(SendError::Transport(CALLER_DEADLINE.into()))
            }
            Err(SendError::Transport(_))
                if timeout < shared.timeout && shared.budget.left().is_zero() =>
            {
                Err(self.stop(SendError::BudgetSpent(shared.budget.limit())))
            }
            Err(error @ SendError::Transport(_)) => {
                shared.backoff.asked_to_wait(None);
                Err(self.stop(error))
            }
            other => other,
        }
    }

    /// Stops delivery for the rest of the process; the first thread to stop
    /// it gets `error`, any other [`SendError::Stopped`].
    fn stop(&self, error: SendError) -> SendError {
        let shared = &self.shared;
        if let SendError::BudgetSpent(_) = error {
            shared.budget_spent.store(true, Ordering::Relaxed);
        }
        if shared.stopped.swap(true, Ordering::Relaxed) {
            self.stopped_error()
        } else {
            error
        }
    }

    fn stopped_error(&self) -> SendError {
        if self.shared.budget_spent.load(Ordering::Relaxed) {
            SendError::BudgetSpent(self.shared.budget.limit())
        } else {
            SendError::Stopped
        }
    }

    /// `true` once a transport failure has stopped delivery.
    #[must_use]
    pub fn is_stopped(&self) -> bool {
        self.shared.stopped.load(Ordering::Relaxed)
    }

    /// The body as sent: compressed when asked for.
    fn compressed(&self, body: Vec<u8>) -> Bytes {
        match self.shared.compression {
            #[cfg(feature = "gzip")]
            Compression::Gzip => Bytes::from(super::compression::gzip(&body)),
            _ => Bytes::from(body),
        }
    }
}

/// Why a request was not sent, or not answered, by the end of the
/// caller's exit budget.
const CALLER_DEADLINE: &str = "the flush's time ran out before the answer";

/// The headers the sink sets itself: an app's own header may not replace
/// them.
const RESERVED_HEADERS: [&str; 6] = [
    "content-type",
    "content-encoding",
    "content-length",
    "user-agent",
    "host",
    "x-api-key",
];

/// An app's header, checked: a valid name that the sink does not set
/// itself, and a value a header can carry (marked sensitive, so that it is
/// never printed). The error names the header, never its value.
pub(crate) fn check_header(
    name: &str,
    value: &str,
) -> Result<(HeaderName, HeaderValue), InvalidSetting> {
    let shown: String = name.chars().take(64).collect();
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
        InvalidSetting(format!(
            "the header name {shown:?} is not a valid HTTP header name; the header is left out"
        ))
    })?;
    if RESERVED_HEADERS.contains(&name.as_str()) {
        return Err(InvalidSetting(format!(
            "the header {name} is set by the toolkit itself; the app's is left out"
        )));
    }
    let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
        InvalidSetting(format!(
            "the value of the header {name} has characters a header cannot carry; the header is left out"
        ))
    })?;
    value.set_sensitive(true);
    Ok((name, value))
}

impl fmt::Debug for HttpSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry credentials and the headers carry the API key.
        f.debug_struct("HttpSink")
            .field("timeout", &self.shared.timeout)
            .field("stopped", &self.is_stopped())
            .finish_non_exhaustive()
    }
}

impl Sink for HttpSink {
    fn send(&self, records: &[Record]) -> Result<(), SendError> {
        if self.shared.stopped.load(Ordering::Relaxed) {
            return Err(self.stopped_error());
        }
        let body = self.shared.protocol.encode(records)?;
        self.send_body(self.compressed(body))
    }

    /// The same body as [`send`](Sink::send), made from the records' JSON.
    fn send_serialised(&self, records: &[String]) -> Result<(), SendError> {
        if self.shared.stopped.load(Ordering::Relaxed) {
            return Err(self.stopped_error());
        }
        let body = self.shared.protocol.encode_serialised(records)?;
        self.send_body(self.compressed(body))
    }

    fn sends_serialised(&self) -> bool {
        true
    }

    fn failure_policy(&self) -> FailurePolicy {
        FailurePolicy::StopAfterTransportFailure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_checked() {
        let bad_key = HttpSink::new(
            "http://127.0.0.1:1/",
            "app/1",
            Some("line\nbreak"),
            DEFAULT_TIMEOUT,
        );
        assert!(bad_key.unwrap_err().to_string().contains("API key"));
    }

    #[test]
    fn debug_output_hides_the_key() {
        let sink = HttpSink::new(
            "http://127.0.0.1:1/",
            "app/1",
            Some("sk-secret"),
            DEFAULT_TIMEOUT,
        )
        .unwrap();
        let shown = format!("{sink:?}");
        assert!(!shown.contains("sk-secret"), "{shown}");
    }
}
