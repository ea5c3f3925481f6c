//! The dashboard: one server-rendered page (`GET /`), its stylesheet
//! (`/style.css`) and its favicon (`/favicon.ico`).
//!
//! No script and no request to another origin: the charts are inline SVG
//! ([`chart`]), coloured by the stylesheet's classes, and the filters are a
//! plain GET form ([`filter`]). [`CONTENT_SECURITY_POLICY`] is sent with
//! the page and holds it to that.

pub mod chart;
pub mod favicon;
pub mod filter;
pub mod html;
pub mod page;

/// The stylesheet, served at `/style.css`.
pub const STYLE_CSS: &str = include_str!("style.css");

/// The page's `Content-Security-Policy`: nothing but this origin's
/// stylesheet and images, forms posted only here, no frames.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

use crate::overview::calendar::Day;
use crate::overview::{list, text, Overview};
use crate::server::{HttpRequest, HttpResponse};
use crate::store::Store;
use crate::views::{self, Query, View};
use filter::Filter;
use page::Page;
use serde_json::Value;

/// Answers `GET /`, `/style.css` and `/favicon.ico` (the router checked
/// the token already).
#[must_use]
pub fn answer(store: &Store, request: &HttpRequest) -> HttpResponse {
    match request.path.as_str() {
        "/style.css" => HttpResponse {
            status: 200,
            content_type: "text/css; charset=utf-8",
            headers: vec![("X-Content-Type-Options", "nosniff".into())],
            body: STYLE_CSS.as_bytes().to_vec(),
        },
        "/favicon.ico" => HttpResponse {
            status: 200,
            content_type: "image/x-icon",
            headers: vec![("X-Content-Type-Options", "nosniff".into())],
            body: favicon::ico(),
        },
        _ => match page_html(store, &request.query, request.header("host")) {
            Ok(html) => HttpResponse {
                status: 200,
                content_type: "text/html; charset=utf-8",
                headers: vec![
                    ("Content-Security-Policy", CONTENT_SECURITY_POLICY.into()),
                    ("X-Content-Type-Options", "nosniff".into()),
                    ("Referrer-Policy", "no-referrer".into()),
                ],
                body: html.into_bytes(),
            },
            Err(error) => HttpResponse::text(error.status(), &format!("{error}\n")),
        },
    }
}

/// The page for a query string (`app=A&range=30…`): the views' answers for
/// its filter, rendered. `host` (the request's `Host`) names this collector
/// in the empty store's guidance.
///
/// # Errors
/// A view's error (the store failed).
pub fn page_html(
    store: &Store,
    query: &str,
    host: Option<&str>,
) -> Result<String, views::ViewError> {
    let today = Day::today();
    let (mut filter, notes) = Filter::parse(query, today);
    let apps = all_apps(store, today)?;
    let names = app_names(&apps);
    if filter.app.is_none() && names.len() == 1 {
        filter.app = names.first().cloned();
    }
    let known = filter.app.as_ref().is_some_and(|app| names.contains(app));
    let mut overview = None;
    let mut versions = Vec::new();
    if known {
        let query = Query {
            app: filter.app.clone(),
            from: filter.from.days_since_epoch(),
            to: filter.to.days_since_epoch(),
            version: filter.version.clone(),
            ci: filter.ci,
            format: None,
        };
        let gathered = gather(store, &query)?;
        // The version filter offers every version of the range, whichever
        // one is chosen: without a version filter, the answer at hand.
        let all_versions = if query.version.is_none() {
            gathered.view("versions").clone()
        } else {
            views::answer(
                store,
                View::Versions,
                &Query {
                    version: None,
                    ..query
                },
            )?
        };
        versions = list(&all_versions, "versions")
            .iter()
            .map(|row| text(row, "version").to_owned())
            .collect();
        overview = Some(gathered);
    }
    let host = host.unwrap_or(crate::settings::DEFAULT_LISTEN);
    let ingest_url = format!("http://{host}/v1/events");
    Ok(page::render(&Page {
        filter: &filter,
        apps: &apps,
        overview: overview.as_ref(),
        versions: &versions,
        ingest_url: &ingest_url,
        notes: &notes,
    }))
}

/// The `apps` view over every day the store can hold (from 1970 to a year
/// past `today`): the page's app list, and where each app's last records
/// are.
///
/// # Errors
/// The store's.
pub fn all_apps(store: &Store, today: Day) -> Result<Value, views::ViewError> {
    let mut query = Query::last_30_days(today.days_since_epoch());
    query.from = 0;
    query.to = today.plus(366).days_since_epoch();
    views::answer(store, View::Apps, &query)
}

/// The views' answers for the report and tests: every view in
/// [`crate::overview::VIEWS`] for one query.
///
/// # Errors
/// The first view that fails.
pub fn gather(store: &Store, query: &Query) -> Result<Overview, views::ViewError> {
    Overview::gather(|name| {
        let view: View = name.parse()?;
        views::answer(store, view, query)
    })
}

/// The `apps` answer's app names.
#[must_use]
pub fn app_names(apps: &Value) -> Vec<String> {
    list(apps, "apps")
        .iter()
        .map(|app| text(app, "app").to_owned())
        .collect()
}
