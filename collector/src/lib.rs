//! `telemetry-collector`: the other half of the telemetry toolkit. One
//! process, one SQLite file: it accepts the toolkit's records
//! (`POST /v1/events`) and OTLP/HTTP JSON logs (`POST /v1/logs`), identity
//! or gzip, keeps each `event_id` exactly once (an answer of 200 means the
//! request's records are committed), keeps no network address, User-Agent
//! or header value, and answers the views as `GET /api/v1/VIEW` JSON.
//!
//! ```text
//! cargo run --release -p telemetry-collector -- serve
//! listening on http://127.0.0.1:4318
//! ```
//!
//! The crate's rooms, in the direction data flows:
//!
//! ```text
//! main (flags) → settings → router → ingest → store ← views
//!                              server ↗ (HTTP/1.1, deadlines)
//! router (GET /) → web (page, charts) → overview ← views
//! main (report)  → report (text, --json) ↗
//! ```
//!
//! `overview` holds every view's answer for one query, as the API gives
//! it: the dashboard page (`web`) and the terminal report (`report`) only
//! render it, so the page, the report and the API show one set of numbers
//! (docs/dashboard.md).
//!
//! Decisions the issue leaves open, taken here:
//! - Bodies need `Content-Length` (411 otherwise); a body over 5 MiB is
//!   refused before it is read, a gzip body is inflated to 20 MiB at most,
//!   and at most two bodies are decoded at once (memory stays bounded).
//! - One thread per connection, at most 256 connections; each request's
//!   head and body get 10 s from the moment the server waits for it, an
//!   idle keep-alive connection too.
//! - A record whose `event_id` is already stored is accepted and ignored:
//!   the first copy wins, byte for byte.
//! - `deletion_request` erases the install's raw records and its row in the
//!   installs table; a record of that install sent later is stored again
//!   (it is a new record).
//! - With no `app` and an empty store, views answer `"app": null` and zeros.
//! - `new_installs` counts each install's first day for the app, whatever
//!   the `version` and `ci` filters.
//! - The database is opened with `synchronous=NORMAL` in WAL mode: a
//!   committed request survives the process being killed (SIGKILL); an
//!   operating-system crash may lose the last commits.

pub mod auth;
pub mod day;
pub mod hash;
pub mod ingest;
pub mod overview;
pub mod report;
pub mod router;
pub mod server;
pub mod settings;
pub mod signal;
pub mod store;
pub mod views;
pub mod web;

pub use settings::Settings;
pub use store::Store;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// How often raw records past retention are folded and removed.
pub const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// How long requests in flight get to finish after SIGINT/SIGTERM.
pub const GRACE: Duration = Duration::from_secs(5);

/// Opens the store, binds, calls `announce` with the bound address, and
/// serves until `stop` is set; then gives the requests in flight [`GRACE`].
pub fn serve(
    settings: &Settings,
    stop: &AtomicBool,
    announce: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    let store = Arc::new(Store::open(&settings.db, true).map_err(|error| error.to_string())?);
    store.set_retention_days(settings.retention_days);
    store
        .expire(day::today())
        .map_err(|error| format!("cannot apply retention: {error}"))?;
    let listener = TcpListener::bind(settings.listen)
        .map_err(|error| format!("cannot listen on {}: {error}", settings.listen))?;
    let address = listener
        .local_addr()
        .map_err(|error| format!("cannot listen on {}: {error}", settings.listen))?;
    let mut app = router::App::new(
        Arc::clone(&store),
        settings.token.clone(),
        settings.ingest_keys.clone(),
    );
    let forwarder = match &settings.forward_otlp {
        Some(url) => {
            store.set_forwarding(true);
            let wake = Arc::new(store::forward::Wake::default());
            let for_app = Arc::clone(&wake);
            app.on_commit = Some(Box::new(move || for_app.notify()));
            let (store, url) = (Arc::clone(&store), url.clone());
            std::thread::Builder::new()
                .name("forward-otlp".into())
                .spawn(move || store::forward::run(&store, &url, &wake, &signal::STOP))
                .ok()
        }
        None => None,
    };
    let app = Arc::new(app);
    announce(address);
    let expiry = Arc::clone(&store);
    let _ = std::thread::Builder::new()
        .name("retention".into())
        .spawn(move || loop {
            std::thread::sleep(RETENTION_EVERY);
            // A failure is retried at the next hour; the views stay right.
            let _ = expiry.expire(day::today());
        });
    let handler: Arc<server::Handler> = Arc::new(move |request| router::handle(&app, request));
    server::serve(listener, handler, stop, GRACE, settings.request_timeout);
    // The forwarder keeps its cursor in the store: whatever it had not sent
    // goes at the next start.
    drop(forwarder);
    Ok(())
}
