//! Which client is current: the thread's scoped clients and the global
//! one. (The thread's current sessions are the sessions'
//! [`state`](crate::recorder::session_state); the future adapter that carries both
//! across `.await` is [`future`](crate::client::future).)

use crate::recorder::session_state::{self, SessionState};
use crate::recorder::{Off, Recorder};
use std::cell::RefCell;
use std::sync::{Arc, PoisonError, RwLock};

/// A client as the context holds it: on with its recorder, or off (and
/// why, when a builder decided it).
#[derive(Clone)]
pub(crate) enum Client {
    /// An enabled client.
    On(Arc<Recorder>),
    /// A disabled client; `None` when made by `Telemetry::disabled`.
    Off(Option<Arc<Off>>),
}

impl Default for Client {
    /// A client made disabled.
    fn default() -> Client {
        Client::Off(None)
    }
}

impl Client {
    /// The recorder of an enabled client.
    pub(crate) fn recorder(&self) -> Option<&Arc<Recorder>> {
        match self {
            Client::On(recorder) => Some(recorder),
            Client::Off(_) => None,
        }
    }
}

static GLOBAL: RwLock<Option<Client>> = RwLock::new(None);

thread_local! {
    static CLIENTS: RefCell<Vec<Client>> = const { RefCell::new(Vec::new()) };
}

/// The innermost scoped client on this thread, else the global one, else
/// `None`. A scoped disabled client hides the global one.
pub(crate) fn current() -> Option<Client> {
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

/// Replaces the global client.
pub(crate) fn set_global(client: Client) {
    *GLOBAL.write().unwrap_or_else(PoisonError::into_inner) = Some(client);
}

/// Pops what [`enter`] pushed, also when unwinding.
pub(crate) struct Entered {
    client: bool,
    session: bool,
}

/// Pushes a client and/or a session for the current thread until the guard
/// drops.
pub(crate) fn enter(client: Option<Client>, session: Option<Arc<SessionState>>) -> Entered {
    let pushed_client = client.is_some_and(|client| {
        CLIENTS
            .try_with(|clients| clients.try_borrow_mut().map(|mut c| c.push(client)).is_ok())
            .unwrap_or(false)
    });
    let pushed_session = session.is_some_and(session_state::push_current);
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
            session_state::pop_current();
        }
    }
}
