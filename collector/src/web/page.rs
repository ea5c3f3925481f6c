//! The dashboard page, rendered on the server: one HTML document with inline
//! SVG charts, no script, no request to any other origin.
//!
//! [`render`] is a pure function of the views' answers (an [`Overview`]),
//! the `apps` answer and the [`Filter`]; the router gathers those and
//! serves the result. Every chart has a table of the same numbers under it;
//! each API number in a table carries `data-api`, the JSON pointer of that
//! number in its view's answer (`<table data-view="VIEW">`), so that a test
//! can check the page against `/api/v1/VIEW` cell by cell.
//!
//! What the page shows, in order of precedence:
//! 1. an empty store: how to point an app at this collector;
//! 2. several apps and none chosen (or an unknown one): a chooser;
//! 3. a range without records: says so, and links the last range that has
//!    some (and the same range without the version and CI filters);
//! 4. else every view: installs and records per day, commands, tools,
//!    errors, tokens, sessions, versions, environments.
//!
//! This file draws the frame (the head, the header with the filter form,
//! the range line, the footer's API links) and picks what goes in it; each
//! part has its own module: `form`, `guide` (what shows in place of the
//! views), `daily`, `calls` (commands and tools), `section` (errors,
//! tokens, versions), `sessions` and `environments`, with the blocks they
//! share in `figure` and `table`.

mod calls;
mod daily;
mod environments;
mod figure;
mod form;
mod guide;
mod section;
mod sessions;
mod table;

use super::filter::Filter;
use super::html::escape;
use crate::overview::series;
use crate::overview::tables;
use crate::overview::{figures, list, text, Overview};
use calls::{commands, tools};
use daily::daily;
use environments::environments;
use form::form;
use guide::{chooser, guidance, no_data};
use section::section;
use serde_json::Value;
use sessions::sessions;
use std::fmt::Write as _;

/// How many names a bar chart draws (the tables list every one).
const BARS_SHOWN: usize = 12;

/// Everything the page shows.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    /// The filter the page was asked for.
    pub filter: &'a Filter,
    /// The `apps` view's answer: which apps the store holds.
    pub apps: &'a Value,
    /// The views' answers for the filter's app; `None` when no app is
    /// chosen or the store is empty.
    pub overview: Option<&'a Overview>,
    /// The versions the version filter offers (the app's versions in the
    /// range, whatever version is chosen).
    pub versions: &'a [String],
    /// Where apps send records (`http://HOST/v1/events`), for the empty
    /// store's guidance.
    pub ingest_url: &'a str,
    /// What was wrong with the query, said at the top of the page.
    pub notes: &'a [String],
}

/// The whole page.
#[must_use]
pub fn render(page: &Page<'_>) -> String {
    let apps = list(page.apps, "apps");
    let app = page.filter.app.as_deref();
    let known = app.is_some_and(|app| apps.iter().any(|entry| text(entry, "app") == app));
    let title = match app {
        Some(app) if known => format!("{app} · telemetry"),
        _ => "telemetry".to_owned(),
    };
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{}</title>
<link rel="stylesheet" href="/style.css">
<link rel="icon" href="/favicon.ico" sizes="16x16">
</head>
<body>
<header>
<h1>{}</h1>
"#,
        escape(&title),
        match app {
            Some(app) if known => format!("Telemetry: <span class=\"app\">{}</span>", escape(app)),
            _ => "Telemetry".to_owned(),
        }
    );
    if !apps.is_empty() {
        html.push_str(&form(page, apps));
    }
    html.push_str("</header>\n<main>\n");
    for note in page.notes {
        let _ = writeln!(html, r#"<p class="note">{}</p>"#, escape(note));
    }
    if apps.is_empty() {
        html.push_str(&guidance(page.ingest_url));
    } else if !known {
        if let Some(app) = app {
            let _ = writeln!(
                html,
                r#"<p class="note">No app named “{}” in this store.</p>"#,
                escape(app)
            );
        }
        html.push_str(&chooser(page.filter, page.apps));
    } else if let Some(overview) = page.overview {
        if overview.is_empty() {
            html.push_str(&no_data(page.filter, apps));
        } else {
            html.push_str(&summary(page.filter, overview));
            html.push_str(&daily(overview));
            html.push_str("<div class=\"grid\">\n");
            html.push_str(&commands(overview));
            html.push_str(&tools(overview));
            html.push_str("</div>\n");
            for part in [
                section(overview, &tables::ERRORS),
                section(overview, &tables::TOKENS),
                sessions(overview),
                section(overview, &tables::VERSIONS),
                environments(overview),
            ] {
                html.push_str(&part);
            }
            html.push_str(&api_links(page.filter));
        }
    }
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

/// One line over the range: what is shown.
fn summary(filter: &Filter, overview: &Overview) -> String {
    let mut parts = vec![format!(
        "{} to {} ({} days)",
        filter.from,
        filter.to,
        filter.days()
    )];
    if let Some(version) = &filter.version {
        parts.push(format!("version {}", escape(version)));
    }
    match filter.ci {
        Some(true) => parts.push("CI runs only".to_owned()),
        Some(false) => parts.push("outside CI only".to_owned()),
        None => {}
    }
    let records: f64 = series::daily(overview)[2].total();
    parts.push(format!("{} records", figures::rounded(records)));
    format!("<p class=\"range\">{}</p>\n", parts.join(" · "))
}

/// The same numbers as JSON, for this filter.
fn api_links(filter: &Filter) -> String {
    let query = escape(&filter.api_query());
    let links: Vec<String> = crate::overview::VIEWS
        .iter()
        .map(|view| format!("<a href=\"/api/v1/{view}?{query}\">{view}</a>"))
        .collect();
    format!(
        "<footer><p>The same numbers as JSON: {}.</p></footer>\n",
        links.join(", ")
    )
}
