//! One request: posted once, retried only where it cannot have been read
//! (see "No request is sent twice" in the module docs of
//! [`HttpSink`](crate::HttpSink): the client's connector counts, for the
//! request being made, the connections it opens, to tell a reused
//! connection from a fresh one), its answer drained within a bound and
//! judged by the sink's protocol.

use super::failure::TransportFailure;
use super::Shared;
use crate::sink::protocol::{Answer, RejectedCount};
use crate::sink::SendError;
use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Client, Url};
use std::cell::Cell;
use std::time::{Duration, Instant};

tokio::task_local! {
    /// The connections the client's connector opened while this task made
    /// its request. Per request, not per client: inside a tokio runtime
    /// every request of the process shares one thread's clients, and a
    /// connection another request opened at the same moment must not make
    /// this one's failure look like one on a fresh connection.
    static OPENED: Cell<usize>;
}

/// A client that connects through `proxy`, or directly (it never reads the
/// process environment itself), and counts, per request, the connections
/// it opens.
pub(super) fn new_client(proxy: Option<&Url>) -> Option<Client> {
    let mut builder = Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .connector_layer(CountConnections)
        .no_proxy();
    if let Some(proxy) = proxy {
        builder = builder.proxy(reqwest::Proxy::all(proxy.clone()).ok()?);
    }
    builder.build().ok()
}

/// The connector layer that counts the connections opened for a request.
#[derive(Clone)]
struct CountConnections;

impl<S> tower_layer::Layer<S> for CountConnections {
    type Service = CountingConnector<S>;

    fn layer(&self, inner: S) -> CountingConnector<S> {
        CountingConnector { inner }
    }
}

#[derive(Clone)]
struct CountingConnector<S> {
    inner: S,
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
        // Called while the request's task polls it (hyper starts a
        // connection from inside the request); a connection hyper starts
        // for a request that then takes a pooled one still counts for it,
        // which only makes it not retried.
        let _ = OPENED.try_with(|opened| opened.set(opened.get() + 1));
        self.inner.call(request)
    }
}

/// Most of a response body read (to keep the connection reusable); the rest
/// is dropped along with the connection. An OTLP answer is read whole (its
/// rejected count may follow a long message), through a scan that keeps
/// nothing of it but the count.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Posts the body; sends it once more, within the same deadline, only
/// after a failure with no answer on a reused connection (see the module
/// docs).
pub(super) async fn deliver(
    client: &Client,
    shared: &Shared,
    body: Bytes,
    timeout: Duration,
) -> Result<(), Failure> {
    let started = Instant::now();
    let (first, opened) = OPENED
        .scope(Cell::new(0), async {
            let first = post(client, shared, body.clone(), timeout).await;
            (first, OPENED.with(Cell::get))
        })
        .await;
    match first {
        Err(Failure::NoAnswer(error)) if opened == 0 => {
            let left = timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(Failure::Final(error));
            }
            post(client, shared, body, left)
                .await
                .map_err(Failure::no_second_retry)
        }
        Err(Failure::RetryAfter(Some(wait), rejected)) => {
            // The collector read the request and asked to come back: sent
            // again only when the wait fits in what is left of the deadline.
            let left = timeout.saturating_sub(started.elapsed());
            if wait >= left {
                return Err(Failure::RetryAfter(Some(wait), rejected));
            }
            tokio::time::sleep(wait).await;
            post(client, shared, body, left.saturating_sub(wait))
                .await
                .map_err(Failure::no_second_retry)
        }
        other => other.map_err(Failure::no_second_retry),
    }
}

/// Why one attempt failed.
pub(super) enum Failure {
    /// The request may have been read: never sent again.
    Final(SendError),
    /// The connection closed or broke before any answer came.
    NoAnswer(SendError),
    /// The collector asked to come back later, after this delay when it
    /// said (`Retry-After`); the back-off rules decide when.
    RetryAfter(Option<Duration>, SendError),
}

impl Failure {
    /// The failure as final, except a request to wait, which the back-off
    /// still needs to hear.
    fn no_second_retry(self) -> Failure {
        match self {
            Failure::NoAnswer(error) => Failure::Final(error),
            other => other,
        }
    }

    pub(super) fn into_send_error(self) -> SendError {
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
    let mut answer = RejectedCount::default();
    let headers = if shared.protocol.reads_answer() || !status.is_success() {
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
/// when `scan` is given (an OTLP answer), reads all of it (within the
/// request's timeout) through the scan, which keeps only the rejected count.
async fn drain(mut response: reqwest::Response, mut scan: Option<&mut RejectedCount>) -> Drained {
    let mut read = 0;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                read += chunk.len();
                match scan.as_deref_mut() {
                    Some(scan) => scan.feed(&chunk),
                    None if read > MAX_RESPONSE_BYTES => return Drained::Done,
                    None => {}
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
