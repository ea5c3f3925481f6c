//! Carrying the current client and session into a future: [`WithTelemetry`]
//! and the [`Scoped`] future it makes, which re-enters their scope on every
//! poll.

use crate::client::context::{self, Client};
use crate::recorder::session_state::SessionState;
use crate::{Session, Telemetry};
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pin_project! {
    /// A future that runs every poll inside a client's (and optionally a
    /// session's) scope, on whichever thread polls it. Made by
    /// [`WithTelemetry`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Scoped<F> {
        #[pin]
        inner: F,
        client: Option<Client>,
        session: Option<Arc<SessionState>>,
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = context::enter(this.client.clone(), this.session.clone());
        this.inner.poll(cx)
    }
}

/// Carries a client or a session into a future, so that async code on any
/// runtime, across `.await` points and thread hops, sees the right ones.
///
/// ```
/// use telemetry_core::{MemorySink, Telemetry, WithTelemetry};
///
/// let sink = MemorySink::new();
/// let telemetry = Telemetry::isolated("my-agent", "1.0.0").sink(sink.clone()).build();
/// let session = telemetry.start_session("root");
/// let work = async {
///     telemetry_core::record_token_usage("gpt-4o", 10, 5, 0.01);
/// };
/// block_on(work.with_session(&session));
/// session.end();
/// assert_eq!(sink.records().len(), 3); // start, token, end
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub trait WithTelemetry: Future + Sized {
    /// Makes `telemetry` current during every poll of this future.
    fn with_telemetry(self, telemetry: Telemetry) -> Scoped<Self> {
        Scoped {
            inner: self,
            client: Some(telemetry.into_client()),
            session: None,
        }
    }

    /// Makes `session` (and its client) current during every poll of this
    /// future. Does nothing for a session of a disabled client.
    fn with_session(self, session: &Session) -> Scoped<Self> {
        let live = session.live();
        Scoped {
            inner: self,
            client: live.map(|live| Client::On(Arc::clone(&live.recorder))),
            session: live.map(|live| Arc::clone(&live.state)),
        }
    }
}

impl<F: Future> WithTelemetry for F {}
