//! What the page shows in place of the views: how to send records to an
//! empty store, a chooser when several apps and none is chosen, and the
//! ranges that have records when the chosen one has none.

use super::table::{api_number, api_text, table};
use crate::overview::calendar::Day;
use crate::overview::tables::json_pointer;
use crate::overview::{list, text};
use crate::web::filter::Filter;
use crate::web::html::escape;
use serde_json::Value;
use std::fmt::Write as _;

/// The empty store: how to send it records.
pub(super) fn guidance(ingest_url: &str) -> String {
    let url = escape(ingest_url);
    format!(
        r#"<section class="guide" id="start">
<h2>No records yet</h2>
<p>This collector keeps what apps send to <code>{url}</code>. Point an app built on the toolkit at it, for one run:</p>
<pre><code>TELEMETRY_ENDPOINT={url} your-app …</code></pre>
<p>or for good, in the app’s code:</p>
<pre><code>let telemetry = Telemetry::builder("your-app", env!("CARGO_PKG_VERSION"))
    .endpoint("{url}")
    .build();</code></pre>
<p>Then run the app (after its first run, which only shows the notice) and reload this page.</p>
</section>
"#
    )
}

/// Several apps: pick one.
pub(super) fn chooser(filter: &Filter, apps: &Value) -> String {
    let rows: Vec<String> = list(apps, "apps")
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let at = |field: &str| json_pointer(&["apps", &index.to_string(), field]);
            format!(
                r#"<th scope="row" data-api="{}"><a href="{}">{}</a></th>{}{}{}{}"#,
                at("app"),
                escape(&filter.for_app(text(entry, "app")).link()),
                escape(text(entry, "app")),
                api_number(&at("records"), entry.get("records")),
                api_number(&at("installs"), entry.get("installs")),
                api_text(&at("first_day"), entry.get("first_day")),
                api_text(&at("last_day"), entry.get("last_day")),
            )
        })
        .collect();
    format!(
        "<section id=\"apps\">\n<h2>Choose an app</h2>\n{}</section>\n",
        table(
            "apps",
            "The apps in this store",
            &[
                ("App", false),
                ("Records", true),
                ("Installs", true),
                ("First day", false),
                ("Last day", false)
            ],
            &rows
        )
    )
}

/// No record in range: say so, and offer ranges that have some.
pub(super) fn no_data(filter: &Filter, apps: &[Value]) -> String {
    let app = filter.app.as_deref().unwrap_or("");
    let mut html = format!(
        "<section class=\"guide\" id=\"empty\">\n<h2>No data in this range</h2>\n<p>No records of {} from {} to {}{}.</p>\n<ul>\n",
        escape(app),
        filter.from,
        filter.to,
        if filter.version.is_some() || filter.ci.is_some() { " with these filters" } else { "" }
    );
    let last = apps
        .iter()
        .find(|entry| text(entry, "app") == app)
        .and_then(|entry| Day::parse(text(entry, "last_day")));
    if let Some(last) = last {
        if last < filter.from || last > filter.to {
            let from = last.plus(1 - filter.days());
            let _ = writeln!(
                html,
                "<li><a href=\"{}\">Show {from} to {last}</a>, the {} days ending on the last day with records.</li>",
                escape(&filter.over(from, last).link()),
                filter.days()
            );
        }
    }
    if filter.version.is_some() || filter.ci.is_some() {
        let _ = writeln!(
            html,
            "<li><a href=\"{}\">Show this range for every version, in CI and outside it.</a></li>",
            escape(&filter.unfiltered().link())
        );
    }
    html.push_str("</ul>\n</section>\n");
    html
}
