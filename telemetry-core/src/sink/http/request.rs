//! One request: posted once, retried only where it cannot have been read
//! (see "No request is sent twice" in the module docs of
//! [`HttpSink`](crate::HttpSink): the client counts the connections it
//! opens, to tell a reused connection from a fresh one), its answer
//! drained within a bound and judged by the sink's protocol.

use super::failure::TransportFailure;
use super::Shared;
use crate::sink::protocol::Answer;
use crate::sink::SendError;
use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Client, Url};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A client that connects through `proxy`, or directly (it never reads the
/// process environment itself), and counts the connections it opens.
pub(super) fn new_client(proxy: Option<&Url>) -> Option<Counted> {
    let connections = Arc::new(AtomicUsize::new(0));
    let mut builder = Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .connector_layer(CountConnections(Arc::clone(&connections)))
        .no_proxy();
    if let Some(proxy) = proxy {
        builder = builder.proxy(reqwest::Proxy::all(proxy.clone()).ok()?);
    }
    let client = builder.build().ok()?;
    Some(Counted {
        client,
        connections,
    })
}

/// A client, and how many connections it has opened.
#[derive(Clone)]
pub(super) struct Counted {
    pub(super) client: Client,
    pub(super) connections: Arc<AtomicUsize>,
}

/// The connector layer that counts the connections a client opens.
#[derive(Clone)]
struct CountConnections(Arc<AtomicUsize>);

impl<S> tower_layer::Layer<S> for CountConnections {
    type Service = CountingConnector<S>;

    fn layer(&self, inner: S) -> CountingConnector<S> {
        CountingConnector {
            inner,
            connections: Arc::clone(&self.0),
        }
    }
}

#[derive(Clone)]
struct CountingConnector<S> {
    inner: S,
    connections: Arc<AtomicUsize>,
}

impl<S, R> tower_service::Service<R> for CountingConnector<S>
where
    S: tower_service::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.connections.fetch_add(1, Ordering::Relaxed);
        self.inner.call(request)
    }
}

/// Most of a response body read (to keep the connection reusable); the rest
/// is dropped along with the connection.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Posts the body; sends it once more, within the same deadline, only
/// after a failure with no answer on a reused connection (see the module
/// docs).
pub(super) async fn deliver(
    client: &Counted,
    shared: &Shared,
    body: Bytes,
    timeout: Duration,
) -> Result<(), SendError> {
    let started = Instant::now();
    let opened = client.connections.load(Ordering::Relaxed);
    match post(&client.client, shared, body.clone(), timeout).await {
        Err(Failure::NoAnswer(error)) if client.connections.load(Ordering::Relaxed) == opened => {
            let left = timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(error);
            }
            post(&client.client, shared, body, left)
                .await
                .map_err(Failure::into_send_error)
        }
        Err(Failure::RetryAfter(wait, rejected)) => {
            // The collector read the request and asked to come back: sent
            // again only when the wait fits in what is left of the deadline.
            let left = timeout.saturating_sub(started.elapsed());
            if wait >= left {
                return Err(rejected);
            }
            tokio::time::sleep(wait).await;
            post(&client.client, shared, body, left.saturating_sub(wait))
                .await
                .map_err(Failure::into_send_error)
        }
        other => other.map_err(Failure::into_send_error),
    }
}

/// Why one attempt failed.
enum Failure {
    /// The request may have been read: never sent again.
    Final(SendError),
    /// The connection closed or broke before any answer came.
    NoAnswer(SendError),
    /// The collector asked to come back after a delay (`Retry-After`).
    RetryAfter(Duration, SendError),
}

impl Failure {
    fn into_send_error(self) -> SendError {
        match self {
            Failure::Final(error) | Failure::NoAnswer(error) | Failure::RetryAfter(_, error) => {
                error
            }
        }
    }
}

/// Posts the body once and reads a bounded part of the answer.
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
    Failure::NoAnswer(SendError::Transport(failure.to_string()))
}
