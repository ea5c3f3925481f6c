//! Which client and session are current: thread scopes, the global client,
//! and the future adapter that carries them across `.await` and threads.

use crate::session::SessionState;
use crate::{Session, Telemetry};
use pin_project_lite::pin_project;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};

/// Set once an enabled client exists; until then every tracked call costs
/// this one relaxed load and nothing else.
static ACTIVE: AtomicBool = AtomicBool::new(false);

static GLOBAL: RwLock<Option<Telemetry>> = RwLock::new(None);

thread_local! {
    static CLIENTS: RefCell<Vec<Telemetry>> = const { RefCell::new(Vec::new()) };
    static SESSIONS: RefCell<Vec<Arc<SessionState>>> = const { RefCell::new(Vec::new()) };
}

/// `true` once an enabled client has been built in this process.
#[inline]
pub(crate) fn is_active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

pub(crate) fn mark_active() {
    ACTIVE.store(true, Ordering::Relaxed);
}

/// The innermost scoped client on this thread, else the global one, else
/// `None`. A scoped disabled client hides the global one.
pub fn current() -> Option<Telemetry> {
    let scoped = CLIENTS
        .try_with(|clients| clients.try_borrow().ok()?.last().cloned())
        .ok()
        .flatten();
    scoped.or_else(|| {
        GLOBAL
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    })
}

/// Makes `telemetry` the client that [`current`] returns wherever no scope
/// says otherwise, replacing any earlier global client.
pub fn set_global(telemetry: Telemetry) {
    *GLOBAL.write().unwrap_or_else(PoisonError::into_inner) = Some(telemetry);
}

/// The innermost current session on this thread.
pub(crate) fn current_session() -> Option<Arc<SessionState>> {
    SESSIONS
        .try_with(|sessions| sessions.try_borrow().ok()?.last().cloned())
        .ok()
        .flatten()
}

/// Pops what [`enter`] pushed, also when unwinding.
pub(crate) struct Entered {
    client: bool,
    session: bool,
}

/// Pushes a client and/or a session for the current thread until the guard
/// drops.
pub(crate) fn enter(client: Option<Telemetry>, session: Option<Arc<SessionState>>) -> Entered {
    let pushed_client = client.is_some_and(|client| {
        CLIENTS
            .try_with(|clients| clients.try_borrow_mut().map(|mut c| c.push(client)).is_ok())
            .unwrap_or(false)
    });
    let pushed_session = session.is_some_and(|session| {
        SESSIONS
            .try_with(|sessions| {
                sessions
                    .try_borrow_mut()
                    .map(|mut s| s.push(session))
                    .is_ok()
            })
            .unwrap_or(false)
    });
    Entered {
        client: pushed_client,
        session: pushed_session,
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        if self.client {
            let _ = CLIENTS.try_with(|clients| clients.try_borrow_mut().map(|mut c| c.pop()));
        }
        if self.session {
            let _ = SESSIONS.try_with(|sessions| sessions.try_borrow_mut().map(|mut s| s.pop()));
        }
    }
}

pin_project! {
    /// A future that runs every poll inside a client's (and optionally a
    /// session's) scope, on whichever thread polls it. Made by
    /// [`WithTelemetry`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Scoped<F> {
        #[pin]
        inner: F,
        client: Option<Telemetry>,
        session: Option<Arc<SessionState>>,
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = enter(this.client.clone(), this.session.clone());
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
/// let telemetry = Telemetry::builder("my-agent", "1.0.0")
///     .sink(sink.clone()).notice(false).env(|_| None).build();
/// let session = telemetry.start_session("root");
/// let work = async {
///     telemetry_core::record_token_usage("gpt-4o", 10, 5, 0.01);
/// };
/// futures_lite_block_on(work.with_session(&session));
/// session.end();
/// assert_eq!(sink.events().len(), 3); // start, token, end
/// # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub trait WithTelemetry: Future + Sized {
    /// Makes `telemetry` current during every poll of this future.
    fn with_telemetry(self, telemetry: Telemetry) -> Scoped<Self> {
        Scoped {
            inner: self,
            client: Some(telemetry),
            session: None,
        }
    }

    /// Makes `session` (and its client) current during every poll of this
    /// future. Does nothing for a session of a disabled client.
    fn with_session(self, session: &Session) -> Scoped<Self> {
        let state = session.state();
        Scoped {
            inner: self,
            client: state.map(|state| state.telemetry.clone()),
            session: state.cloned(),
        }
    }
}

impl<F: Future> WithTelemetry for F {}
