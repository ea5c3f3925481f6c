//! How a request is driven: on the calling thread's own current-thread
//! runtime, or on one shared background thread when the caller is inside a
//! tokio runtime (see "How a send is driven" in the module docs of
//! [`HttpSink`](crate::HttpSink)); the clients.

use super::request::{deliver, new_client, Failure};
use super::Shared;
use crate::sink::SendError;
use bytes::Bytes;
use reqwest::{Client, Url};
use std::cell::RefCell;
use std::sync::{mpsc, Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

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

/// The main thread's driver. It lives until the process ends, as a
/// thread-local one would for the main thread, but is never torn down:
/// at exit the kernel closes its sockets, and a short run does not pay
/// for shutting a runtime down (about 30 µs).
static MAIN: Mutex<Option<LocalDriver>> = Mutex::new(None);

/// Runs `send` with this thread's driver slot; `None` when it is in use
/// (a send from inside a send) or gone (the thread is exiting).
fn with_local_driver<R>(send: impl FnOnce(&mut Option<LocalDriver>) -> Option<R>) -> Option<R> {
    LOCAL
        .try_with(|local| {
            // Asked only while this thread's locals live (`try_with`), when
            // std can still name the thread.
            if std::thread::current().name() != Some("main") {
                return send(&mut *local.try_borrow_mut().ok()?);
            }
            // `try_lock`: a send from inside a send, or another thread that
            // took the name, goes to the shared thread instead of waiting.
            let mut main = match MAIN.try_lock() {
                Ok(main) => main,
                Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return None,
            };
            send(&mut main)
        })
        .ok()
        .flatten()
}

pub(super) fn send_on_this_thread(
    shared: &Arc<Shared>,
    body: Bytes,
    timeout: Duration,
) -> Result<(), Failure> {
    let attempt = with_local_driver(|local| {
        // A thread's first send has no pooled connection to settle.
        let pooled = local.is_some();
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
        // Let this thread's idle pooled connections run first, so that one
        // the server closed while idle sees its close and is dropped: the
        // request then goes on a fresh connection (see the module docs).
        if pooled {
            runtime.block_on(settle_idle_connections());
        }
        Some(runtime.block_on(deliver(&client, shared, body.clone(), timeout)))
    });
    match attempt {
        Some(result) => result,
        // The thread is exiting, or this thread could not get a runtime:
        // use the shared one instead.
        None => send_on_background_thread(shared, body, timeout),
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

pub(super) fn send_on_background_thread(
    shared: &Arc<Shared>,
    body: Bytes,
    timeout: Duration,
) -> Result<(), Failure> {
    let unavailable = || {
        Failure::Final(SendError::Transport(
            "the delivery thread could not be started".into(),
        ))
    };
    let background = background().ok_or_else(unavailable)?;
    let client = background
        .clients
        .get(shared.proxy.as_ref())
        .ok_or_else(unavailable)?;
    let (answer, answered) = mpsc::sync_channel(1);
    let shared_for_task = Arc::clone(shared);
    background.handle.spawn(async move {
        let result = deliver(&client, &shared_for_task, body, timeout).await;
        let _ = answer.send(result);
    });
    // The request is bounded by the timeout; the margin only guards against
    // a background thread that has died.
    answered
        .recv_timeout(
            timeout
                .saturating_mul(2)
                .saturating_add(Duration::from_secs(1)),
        )
        .unwrap_or_else(|_| {
            Err(Failure::Final(SendError::Transport(
                "the delivery thread did not answer".into(),
            )))
        })
}

/// Gives the runtime's other tasks (idle pooled connections) a turn.
async fn settle_idle_connections() {
    tokio::task::yield_now().await;
}
