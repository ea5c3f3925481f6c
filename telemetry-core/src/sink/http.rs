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
//!   hop, no lock; each thread reuses its own keep-alive connection.
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
//! A request that failed mid-way on a reused connection (the server closed
//! it while idle) is retried once on a fresh one, within the same time
//! budget, so that a stale pooled connection never loses an event.
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

use super::failure::TransportFailure;
use super::protocol::{Answer, Protocol};
use super::route;
use super::{FailurePolicy, SendError, Sink, DEFAULT_TIMEOUT};
use crate::env::Env;
use crate::record::Record;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, USER_AGENT};
use reqwest::{Client, Url};
use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Most of a response body read (to keep the connection reusable); the rest
/// is dropped along with the connection.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

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
        Ok(HttpSink {
            shared: Arc::new(Shared {
                url,
                headers,
                timeout: if timeout.is_zero() {
                    DEFAULT_TIMEOUT
                } else {
                    timeout
                },
                proxy,
                stopped: AtomicBool::new(false),
                protocol: Protocol::Records,
            }),
        })
    }

    /// `true` when requests carry the `x-api-key` header.
    pub(crate) fn sends_api_key(&self) -> bool {
        self.shared.headers.contains_key("x-api-key")
    }

    /// `true` once a transport failure has stopped delivery.
    #[must_use]
    pub fn is_stopped(&self) -> bool {
        self.shared.stopped.load(Ordering::Relaxed)
    }

    /// The same sink, speaking `protocol` (called right after `new`, while
    /// the state is not yet shared).
    pub(super) fn speaking(mut self, protocol: Protocol) -> HttpSink {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.protocol = protocol;
        }
        self
    }
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
        let shared = &self.shared;
        if shared.stopped.load(Ordering::Relaxed) {
            return Err(SendError::Stopped);
        }
        let body = shared.protocol.encode(records)?;
        let result = if tokio::runtime::Handle::try_current().is_ok() {
            send_on_background_thread(shared, Bytes::from(body))
        } else {
            send_on_this_thread(shared, Bytes::from(body))
        };
        if let Err(SendError::Transport(_)) = result {
            // Only the first failing thread reports the failure.
            if shared.stopped.swap(true, Ordering::Relaxed) {
                return Err(SendError::Stopped);
            }
        }
        result
    }

    fn failure_policy(&self) -> FailurePolicy {
        FailurePolicy::StopAfterTransportFailure
    }
}

fn parse_endpoint(endpoint: &str) -> Result<Url, InvalidSetting> {
    let endpoint = endpoint.trim();
    if endpoint.is_empty() {
        return Err(InvalidSetting("the endpoint is empty".into()));
    }
    let url = Url::parse(endpoint).map_err(|_| {
        InvalidSetting(
            "the endpoint is not a URL (expected http://host/path or https://host/path)".into(),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(InvalidSetting(
            "the endpoint's scheme is not http or https".into(),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(InvalidSetting("the endpoint has no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // reqwest would turn them into an `Authorization: Basic` header.
        return Err(InvalidSetting(
            "the endpoint has a user name or password in it; credentials in the URL are never sent (give the key with api_key)".into(),
        ));
    }
    Ok(url)
}

/// A client that connects through `proxy`, or directly; it never reads the
/// process environment itself.
fn new_client(proxy: Option<&Url>) -> Option<Client> {
    let mut builder = Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if let Some(proxy) = proxy {
        builder = builder.proxy(reqwest::Proxy::all(proxy.clone()).ok()?);
    }
    builder.build().ok()
}

/// A thread's own runtime and clients, for sends outside an async runtime.
struct LocalDriver {
    runtime: Option<tokio::runtime::Runtime>,
    clients: Clients,
}

impl Drop for LocalDriver {
    fn drop(&mut self) {
        self.clients = Clients::default();
        if let Some(runtime) = self.runtime.take() {
            // Never blocks, so it cannot panic in any context.
            runtime.shutdown_background();
        }
    }
}

/// One client per proxy (and one that connects directly), made on first use.
#[derive(Default)]
struct Clients(Mutex<Vec<(Option<Url>, Client)>>);

impl Clients {
    fn get(&self, proxy: Option<&Url>) -> Option<Client> {
        let mut clients = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, client)) = clients.iter().find(|(its, _)| its.as_ref() == proxy) {
            return Some(client.clone());
        }
        let client = new_client(proxy)?;
        clients.push((proxy.cloned(), client.clone()));
        Some(client)
    }
}

thread_local! {
    static LOCAL: RefCell<Option<LocalDriver>> = const { RefCell::new(None) };
}

fn send_on_this_thread(shared: &Arc<Shared>, body: Bytes) -> Result<(), SendError> {
    let attempt = LOCAL.try_with(|local| {
        let mut local = local.try_borrow_mut().ok()?;
        if local.is_none() {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            *local = Some(LocalDriver {
                runtime: Some(runtime),
                clients: Clients::default(),
            });
        }
        let driver = local.as_ref()?;
        let client = driver.clients.get(shared.proxy.as_ref())?;
        let runtime = driver.runtime.as_ref()?;
        Some(runtime.block_on(deliver(client, Arc::clone(shared), body.clone())))
    });
    match attempt {
        Ok(Some(result)) => result,
        // The thread is exiting, or this thread could not get a runtime:
        // use the shared one instead.
        _ => send_on_background_thread(shared, body),
    }
}

/// The shared runtime thread for sends made inside an async runtime.
struct Background {
    handle: tokio::runtime::Handle,
    clients: Clients,
}

fn background() -> Option<&'static Background> {
    static BACKGROUND: OnceLock<Option<Background>> = OnceLock::new();
    BACKGROUND
        .get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            let handle = runtime.handle().clone();
            std::thread::Builder::new()
                .name("telemetry-http".into())
                .spawn(move || runtime.block_on(std::future::pending::<()>()))
                .ok()?;
            Some(Background {
                handle,
                clients: Clients::default(),
            })
        })
        .as_ref()
}

fn send_on_background_thread(shared: &Arc<Shared>, body: Bytes) -> Result<(), SendError> {
    let unavailable = || SendError::Transport("the delivery thread could not be started".into());
    let background = background().ok_or_else(unavailable)?;
    let client = background
        .clients
        .get(shared.proxy.as_ref())
        .ok_or_else(unavailable)?;
    let (answer, answered) = mpsc::sync_channel(1);
    let shared_for_task = Arc::clone(shared);
    background.handle.spawn(async move {
        let result = deliver(client, shared_for_task, body).await;
        let _ = answer.send(result);
    });
    // The request is bounded by the timeout; the margin only guards against
    // a background thread that has died.
    answered
        .recv_timeout(
            shared
                .timeout
                .saturating_mul(2)
                .saturating_add(Duration::from_secs(1)),
        )
        .unwrap_or_else(|_| {
            Err(SendError::Transport(
                "the delivery thread did not answer".into(),
            ))
        })
}

/// Posts the body; retries once, within the same deadline, after a failure
/// that may come from a stale pooled connection.
async fn deliver(client: Client, shared: Arc<Shared>, body: Bytes) -> Result<(), SendError> {
    // `None`: a timeout too long to be a point in time (`Duration::MAX`).
    let deadline = Instant::now().checked_add(shared.timeout);
    match post(&client, &shared, body.clone(), shared.timeout).await {
        Err(Failure::Retryable(first)) => {
            let left = deadline.map_or(shared.timeout, |deadline| {
                deadline.saturating_duration_since(Instant::now())
            });
            if left.is_zero() {
                return Err(SendError::Transport(first));
            }
            post(&client, &shared, body, left)
                .await
                .map_err(Failure::into_send_error)
        }
        Err(Failure::RetryAfter(wait, rejected)) => {
            let left = deadline.map_or(shared.timeout, |deadline| {
                deadline.saturating_duration_since(Instant::now())
            });
            if wait >= left {
                return Err(rejected);
            }
            tokio::time::sleep(wait).await;
            post(&client, &shared, body, left.saturating_sub(wait))
                .await
                .map_err(Failure::into_send_error)
        }
        other => other.map_err(Failure::into_send_error),
    }
}

enum Failure {
    Final(SendError),
    Retryable(String),
    /// The collector asked to come back after a delay (`Retry-After`).
    RetryAfter(Duration, SendError),
}

impl Failure {
    fn into_send_error(self) -> SendError {
        match self {
            Failure::Final(error) | Failure::RetryAfter(_, error) => error,
            Failure::Retryable(reason) => SendError::Transport(reason),
        }
    }
}

async fn post(
    client: &Client,
    shared: &Shared,
    body: Bytes,
    timeout: Duration,
) -> Result<(), Failure> {
    let response = client
        .post(shared.url.clone())
        .headers(shared.headers.clone())
        .timeout(timeout)
        .body(body)
        .send()
        .await
        .map_err(|error| classify(&error))?;
    let status = response.status();
    let mut answer = Vec::new();
    let headers = if shared.protocol.reads_answer() {
        response.headers().clone()
    } else {
        HeaderMap::new()
    };
    let keep = shared.protocol.reads_answer().then_some(&mut answer);
    if drain(response, keep).await == Drained::TimedOut {
        // The answer stalled half-way: as costly as no answer at all.
        return Err(Failure::Final(SendError::Transport(
            "the answer stalled, and the request timed out".into(),
        )));
    }
    match shared.protocol.judge(status, &headers, &answer) {
        Answer::Accepted => Ok(()),
        Answer::Failed(error) => Err(Failure::Final(error)),
        Answer::RetryAfter(wait, error) => Err(Failure::RetryAfter(wait, error)),
    }
}

#[derive(PartialEq)]
enum Drained {
    Done,
    TimedOut,
}

/// Reads a bounded part of the body so that the connection can be reused;
/// keeps what it read in `keep` when given.
async fn drain(mut response: reqwest::Response, mut keep: Option<&mut Vec<u8>>) -> Drained {
    let mut read = 0;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                read += chunk.len();
                if let Some(kept) = keep.as_deref_mut() {
                    let room = MAX_RESPONSE_BYTES.saturating_sub(kept.len());
                    kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                if read > MAX_RESPONSE_BYTES {
                    return Drained::Done;
                }
            }
            Err(error) if error.is_timeout() => return Drained::TimedOut,
            Ok(None) | Err(_) => return Drained::Done,
        }
    }
}

/// Names a reqwest failure by its cause, without the URL or any header.
fn classify(error: &reqwest::Error) -> Failure {
    let failure = TransportFailure::of(error);
    if error.is_timeout() || error.is_connect() {
        return Failure::Final(SendError::Transport(failure.to_string()));
    }
    Failure::Retryable(failure.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked() {
        for bad in ["", "not a url", "ftp://x", "http://", "mailto:a@b"] {
            let error = HttpSink::new(bad, "app/1", None, DEFAULT_TIMEOUT).unwrap_err();
            assert!(!error.to_string().is_empty(), "{bad}");
        }
        assert!(HttpSink::new(
            "https://collector.example/v1/events",
            "app/1",
            None,
            DEFAULT_TIMEOUT
        )
        .is_ok());
    }

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
