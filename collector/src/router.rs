//! Every route in one list, with the auth rules and the ingest gate.
//!
//! | route | answer |
//! |---|---|
//! | `POST /v1/events` | the toolkit's `{"records":[…]}` → `{"accepted":N,"rejected":M}` |
//! | `POST /v1/logs` | OTLP/HTTP JSON logs → `{}` or `{"partialSuccess":{"rejectedLogRecords":M}}` |
//! | `GET /api/v1/VIEW` | a view's JSON (`views::answer`); `records&format=ndjson` as lines |
//! | `GET /`, `/style.css`, `/favicon.ico` | the dashboard page (`web`) |

use crate::auth;
use crate::day;
use crate::ingest::{self, Format};
use crate::server::{HttpRequest, HttpResponse};
use crate::store::Store;
use crate::views::{self, Query, View};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// Bodies decoded and parsed at once: each may take up to 20 MiB inflated,
/// so this bounds the memory a burst of large bodies can take.
const DECODING_AT_ONCE: usize = 2;

/// What the routes share.
pub struct App {
    /// The store.
    pub store: Arc<Store>,
    /// The token reads need, if any.
    pub token: Option<String>,
    /// Ingest keys per app.
    pub ingest_keys: BTreeMap<String, Vec<String>>,
    /// Wakes the forwarder after a commit, when forwarding.
    pub on_commit: Option<Box<dyn Fn() + Send + Sync>>,
    decoding: Gate,
}

impl App {
    /// The routes' state.
    pub fn new(
        store: Arc<Store>,
        token: Option<String>,
        ingest_keys: BTreeMap<String, Vec<String>>,
    ) -> App {
        App {
            store,
            token,
            ingest_keys,
            on_commit: None,
            decoding: Gate::new(DECODING_AT_ONCE),
        }
    }
}

/// Answers one request.
pub fn handle(app: &App, request: HttpRequest) -> HttpResponse {
    match (request.method.as_str(), request.path.as_str()) {
        ("POST", "/v1/events") => ingest(app, &request, Format::Wire),
        ("POST", "/v1/logs") => ingest(app, &request, Format::Otlp),
        ("GET", path) if path.starts_with("/api/v1/") => {
            if !auth::may_read(&request, app.token.as_deref()) {
                return unauthorized();
            }
            view(app, &path["/api/v1/".len()..], &request.query)
        }
        // The dashboard (collector/src/web/) answers these three routes.
        ("GET", "/" | "/style.css" | "/favicon.ico") => {
            if !auth::may_read(&request, app.token.as_deref()) {
                return unauthorized();
            }
            page(app, &request)
        }
        (_, "/v1/events" | "/v1/logs") => method_not_allowed("POST"),
        (_, path) if path.starts_with("/api/v1/") => method_not_allowed("GET"),
        _ => HttpResponse::json(404, &json!({"error": "no such route"})),
    }
}

/// The dashboard: the page, its stylesheet and its icon (`web`).
fn page(app: &App, request: &HttpRequest) -> HttpResponse {
    crate::web::answer(&app.store, request)
}

fn unauthorized() -> HttpResponse {
    HttpResponse::json(
        401,
        &json!({"error": "reads need Authorization: Bearer TOKEN"}),
    )
    .with_header(
        "WWW-Authenticate",
        "Basic realm=\"telemetry-collector\"".into(),
    )
}

fn method_not_allowed(allowed: &'static str) -> HttpResponse {
    HttpResponse::json(405, &json!({"error": format!("use {allowed}")}))
        .with_header("Allow", allowed.into())
}

fn ingest(app: &App, request: &HttpRequest, format: Format) -> HttpResponse {
    let parsed = {
        let _permit = app.decoding.enter();
        ingest::records_of(format, &request.body, request.header("content-encoding"))
    };
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            return HttpResponse::json(error.status(), &json!({"error": error.reason()}));
        }
    };
    let apps = parsed
        .records
        .iter()
        .filter_map(|record| record.get("source").and_then(serde_json::Value::as_str));
    if !auth::may_ingest(&app.ingest_keys, apps, request.header("x-api-key")) {
        return HttpResponse::json(
            401,
            &json!({"error": "records of an app with ingest keys need one of its keys in x-api-key"}),
        );
    }
    match app.store.ingest(&parsed.records) {
        Ok(ingested) => {
            if let Some(wake) = &app.on_commit {
                wake();
            }
            match format {
                Format::Wire => HttpResponse::json(
                    200,
                    &json!({"accepted": ingested.accepted, "rejected": parsed.rejected}),
                ),
                Format::Otlp if parsed.rejected > 0 => HttpResponse::json(
                    200,
                    &json!({"partialSuccess": {
                        "rejectedLogRecords": parsed.rejected.to_string(),
                        "errorMessage": "log records without eventName, timeUnixNano or service.name were skipped",
                    }}),
                ),
                Format::Otlp => HttpResponse::json(200, &json!({})),
            }
        }
        Err(error) => HttpResponse::json(500, &json!({"error": error.to_string()})),
    }
}

fn view(app: &App, name: &str, query: &str) -> HttpResponse {
    let answer = name.parse::<View>().and_then(|view| {
        let query = Query::parse(query, day::today())?;
        let answer = views::answer(&app.store, view, &query)?;
        Ok((view, query, answer))
    });
    match answer {
        Ok((View::Records, query, answer)) if query.format.as_deref() == Some("ndjson") => {
            let mut lines = String::new();
            for record in answer["records"].as_array().into_iter().flatten() {
                lines.push_str(&record.to_string());
                lines.push('\n');
            }
            HttpResponse {
                status: 200,
                content_type: "application/x-ndjson",
                headers: Vec::new(),
                body: lines.into_bytes(),
            }
        }
        Ok((_, _, answer)) => HttpResponse::json(200, &answer),
        Err(error) => HttpResponse::json(error.status(), &error.to_json()),
    }
}

/// A counting semaphore.
struct Gate {
    free: Mutex<usize>,
    freed: Condvar,
}

struct Permit<'a>(&'a Gate);

impl Gate {
    fn new(permits: usize) -> Gate {
        Gate {
            free: Mutex::new(permits),
            freed: Condvar::new(),
        }
    }

    fn enter(&self) -> Permit<'_> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free == 0 {
            free = self
                .freed
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.0.freed.notify_one();
    }
}
