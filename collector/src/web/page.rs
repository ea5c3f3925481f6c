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

use super::chart::{self, Plot, FAILURE};
use super::filter::{Filter, Range, PRESETS};
use super::html::escape;
use crate::overview::calendar::Day;
use crate::overview::series::{self, Series, UNNAMED};
use crate::overview::tables::{self, json_pointer, Cell};
use crate::overview::{count, dropped_on, figures, list, tally, text, Overview};
use serde_json::Value;
use std::fmt::Write as _;

/// How many series a chart over days draws before summing the rest into
/// "other" (the tables list every one).
const SERIES_SHOWN: usize = 7;

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

/// The filter form: a plain GET to `/`.
fn form(page: &Page<'_>, apps: &[Value]) -> String {
    let filter = page.filter;
    let mut html = String::from("<form class=\"filters\" method=\"get\" action=\"/\">\n");
    let selected = |yes: bool| if yes { " selected" } else { "" };
    html.push_str("<label>App <select name=\"app\">");
    if filter.app.is_none() && apps.len() > 1 {
        html.push_str("<option value=\"\" selected>Choose…</option>");
    }
    for entry in apps {
        let name = text(entry, "app");
        let _ = write!(
            html,
            "<option value=\"{}\"{}>{}</option>",
            escape(name),
            selected(filter.app.as_deref() == Some(name)),
            escape(name)
        );
    }
    html.push_str("</select></label>\n<label>Range <select name=\"range\">");
    for days in PRESETS {
        let _ = write!(
            html,
            "<option value=\"{days}\"{}>Last {days} days</option>",
            selected(filter.range == Range::Last(days))
        );
    }
    let _ = writeln!(
        html,
        "<option value=\"custom\"{}>From–to</option></select></label>",
        selected(filter.range == Range::Custom)
    );
    let _ = write!(
        html,
        "<label>From <input type=\"date\" name=\"from\" value=\"{}\"></label>\n<label>To <input type=\"date\" name=\"to\" value=\"{}\"></label>\n",
        filter.from, filter.to
    );
    html.push_str("<label>Version <select name=\"version\"><option value=\"\">All</option>");
    let mut versions: Vec<&str> = page.versions.iter().map(String::as_str).collect();
    if let Some(chosen) = filter.version.as_deref() {
        if !versions.contains(&chosen) {
            versions.push(chosen);
        }
    }
    for version in versions {
        let _ = write!(
            html,
            "<option value=\"{}\"{}>{}</option>",
            escape(version),
            selected(filter.version.as_deref() == Some(version)),
            escape(if version.is_empty() { UNNAMED } else { version })
        );
    }
    let _ = write!(
        html,
        "</select></label>\n<label>CI <select name=\"ci\"><option value=\"\"{}>Both</option><option value=\"true\"{}>Yes</option><option value=\"false\"{}>No</option></select></label>\n",
        selected(filter.ci.is_none()),
        selected(filter.ci == Some(true)),
        selected(filter.ci == Some(false))
    );
    let _ = writeln!(
        html,
        "<input type=\"hidden\" name=\"shown\" value=\"{}\">",
        filter.shown()
    );
    html.push_str("<button type=\"submit\">Show</button>\n</form>\n");
    html
}

/// The empty store: how to send it records.
fn guidance(ingest_url: &str) -> String {
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
fn chooser(filter: &Filter, apps: &Value) -> String {
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
fn no_data(filter: &Filter, apps: &[Value]) -> String {
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

/// Installs and records per day, with the dropped records' reasons.
fn daily(overview: &Overview) -> String {
    let days = overview.days();
    let [active, new, records, dropped] = series::daily(overview);
    let view = overview.view("daily");
    let rows = list(view, "days");
    let day_row = |fields: &[&str]| -> Vec<String> {
        rows.iter()
            .enumerate()
            .map(|(index, row)| {
                let mut cells = api_text_head(
                    &json_pointer(&["days", &index.to_string(), "day"]),
                    row.get("day"),
                );
                for field in fields {
                    let at = json_pointer(&["days", &index.to_string(), field]);
                    match row.get(*field) {
                        // `dropped` by reason: the day's sum, then each reason.
                        Some(Value::Object(_)) => {
                            cells.push_str(&derived(&figures::rounded(dropped_on(row))));
                            let _ = write!(
                                cells,
                                "<td>{}</td>",
                                tally_cell(&Cell::tally(&at, &tally(row, field)).parts)
                            );
                        }
                        value => cells.push_str(&api_number(&at, value)),
                    }
                }
                cells
            })
            .collect()
    };
    let by_reason = rows
        .iter()
        .any(|row| row.get("dropped").is_some_and(Value::is_object));
    let installs = [Plot::new(&active, 0), Plot::new(&new, 1)];
    let record_plots = [Plot::new(&records, 2), Plot::new(&dropped, FAILURE)];
    let mut html =
        String::from("<section id=\"daily\">\n<h2>Use per day</h2>\n<div class=\"grid\">\n");
    html.push_str(&figure(
        "Active and new installs per day",
        &chart::lines("Active and new installs per day", &days, &installs),
        &installs,
        &details(table(
            "daily",
            "Installs per day",
            &[
                ("Day", false),
                ("Active installs", true),
                ("New installs", true),
            ],
            &day_row(&["active_installs", "new_installs"]),
        )),
    ));
    let dropped_reasons = tally(view, "dropped");
    let mut reasons = String::new();
    if !dropped_reasons.is_empty() || view.get("deletion_requests").is_some() {
        let mut rows: Vec<String> = dropped_reasons
            .iter()
            .map(|(reason, number)| {
                format!(
                    "<th scope=\"row\">dropped: {}</th>{}",
                    escape(reason),
                    api_number(&json_pointer(&["dropped", reason]), Some(number))
                )
            })
            .collect();
        if let Some(requests) = view.get("deletion_requests") {
            rows.push(format!(
                "<th scope=\"row\">deletion requests</th>{}",
                api_number(&json_pointer(&["deletion_requests"]), Some(requests))
            ));
        }
        reasons = table(
            "daily",
            "Over the range",
            &[("", false), ("Count", true)],
            &rows,
        );
    }
    html.push_str(&figure(
        "Records and dropped records per day",
        &chart::lines("Records and dropped records per day", &days, &record_plots),
        &record_plots,
        &format!(
            "{}{reasons}",
            details(table(
                "daily",
                "Records per day",
                &records_head(by_reason),
                &day_row(&["records", "dropped"])
            ))
        ),
    ));
    html.push_str("</div>\n</section>\n");
    html
}

/// Commands or tools: calls (succeeded and failed) per name, then the table.
fn calls(overview: &Overview, spec: &tables::Table) -> String {
    let (view_name, title) = (spec.view, spec.caption);
    let rows = spec.entries(overview.view(view_name));
    let names: Vec<&str> = rows
        .iter()
        .take(BARS_SHOWN)
        .map(|row| text(row, "name"))
        .collect();
    let succeeded = Series {
        name: "succeeded".to_owned(),
        values: rows
            .iter()
            .take(BARS_SHOWN)
            .map(|row| (count(row, "calls") - count(row, "failures")).max(0.0))
            .collect(),
    };
    let failed = Series {
        name: "failed".to_owned(),
        values: rows
            .iter()
            .take(BARS_SHOWN)
            .map(|row| count(row, "failures"))
            .collect(),
    };
    let plots = [Plot::new(&succeeded, 0), Plot::new(&failed, FAILURE)];
    let label = format!("{title}: calls per name, succeeded and failed");
    let body = if rows.is_empty() {
        format!("<p class=\"empty\">No {view_name} in this range.</p>\n")
    } else {
        figure(
            &label,
            &chart::bars(&label, &names, &plots),
            &plots,
            &view_table(spec, overview.view(view_name)),
        )
    };
    format!("<section id=\"{view_name}\">\n<h2>{title}</h2>\n{body}</section>\n")
}

fn commands(overview: &Overview) -> String {
    calls(overview, &tables::COMMANDS)
}

fn tools(overview: &Overview) -> String {
    calls(overview, &tables::TOOLS)
}

/// A view's days broken down (a chart each, its table folded under it),
/// then the view's list: beside the chart when there is one, under the
/// charts when there are several.
fn section(overview: &Overview, section: &tables::Section) -> String {
    let id = section.list.view;
    let view = overview.view(id);
    let mut html = format!(
        "<section id=\"{id}\">\n<h2>{}</h2>\n",
        escape(section.title)
    );
    if list(view, section.list.rows).is_empty() && list(view, "by_day").is_empty() {
        let _ = write!(
            html,
            "<p class=\"empty\">{}</p>\n</section>\n",
            section.none
        );
        return html;
    }
    let days = overview.days();
    let charted: Vec<Vec<Series>> = section
        .breakdowns
        .iter()
        .map(|breakdown| breakdown.series(overview, SERIES_SHOWN))
        .collect();
    // One colour per group in every chart: the first chart's order.
    let colour_of = |name: &str| {
        charted
            .first()
            .and_then(|first| first.iter().position(|series| series.name == name))
            .unwrap_or(SERIES_SHOWN)
            % chart::COLOURS
    };
    html.push_str("<div class=\"grid\">\n");
    for (breakdown, series) in section.breakdowns.iter().zip(&charted) {
        let plots: Vec<Plot<'_>> = series
            .iter()
            .map(|series| Plot::new(series, colour_of(&series.name)))
            .collect();
        let draw = if breakdown.shares {
            chart::stacked_shares
        } else {
            chart::stacked_bars
        };
        html.push_str(&figure(
            breakdown.caption,
            &draw(breakdown.caption, &days, &plots),
            &plots,
            &details(view_table(&breakdown.table, view)),
        ));
    }
    let list = view_table(&section.list, view);
    if section.breakdowns.len() == 1 {
        let _ = write!(html, "<div>\n{list}</div>\n</div>\n</section>\n");
    } else {
        let _ = write!(html, "</div>\n{list}</section>\n");
    }
    html
}

/// The sessions' figures.
fn sessions(overview: &Overview) -> String {
    let sessions = overview
        .view("sessions")
        .get("sessions")
        .unwrap_or(&Value::Null);
    let figure_row = |label: &str, field: &str| {
        format!(
            "<th scope=\"row\">{label}</th>{}",
            api_number(&json_pointer(&["sessions", field]), sessions.get(field))
        )
    };
    let rows = vec![
        figure_row("Sessions", "count"),
        figure_row("With errors", "with_errors"),
        format!(
            "<th scope=\"row\">Share with errors</th>{}",
            derived(&figures::percent(
                count(sessions, "with_errors"),
                count(sessions, "count")
            ))
        ),
        figure_row("Tool calls a session, p50", "tool_calls_p50"),
        figure_row("Tool calls a session, p95", "tool_calls_p95"),
        figure_row("Duration p50 (ms)", "duration_p50_ms"),
        figure_row("Duration p95 (ms)", "duration_p95_ms"),
    ];
    format!(
        "<section id=\"sessions\" class=\"narrow\">\n<h2>Sessions</h2>\n{}</section>\n",
        table(
            "sessions",
            "Ended sessions in the range",
            &[("", false), ("Value", true)],
            &rows
        )
    )
}

/// Installs by OS, arch, CI provider and AI agent.
fn environments(overview: &Overview) -> String {
    let view = overview.view("environments");
    let mut html = String::from(
        "<section id=\"environments\">\n<h2>Where it runs</h2>\n<div class=\"grid four\">\n",
    );
    for (key, title) in [
        ("os", "Operating system"),
        ("arch", "Architecture"),
        ("ci_provider", "CI provider"),
        ("ai_agent", "AI agent"),
    ] {
        let entries = tables::shares(view, key);
        if entries.is_empty() {
            let _ = writeln!(html, "<figure><figcaption>{title}</figcaption><p class=\"empty\">No installs.</p></figure>");
            continue;
        }
        let shown: Vec<String> = entries
            .iter()
            .take(BARS_SHOWN)
            .map(|(name, _, _)| tables::shown_name(name))
            .collect();
        let shown: Vec<&str> = shown.iter().map(String::as_str).collect();
        let installs = Series {
            name: "installs".to_owned(),
            values: entries
                .iter()
                .take(BARS_SHOWN)
                .map(|(_, number, _)| number.as_f64().unwrap_or(0.0))
                .collect(),
        };
        let rows: Vec<String> = entries
            .iter()
            .map(|(name, number, share)| {
                format!(
                    "<th scope=\"row\">{}</th>{}{}",
                    escape(&tables::shown_name(name)),
                    api_number(&json_pointer(&[key, name]), Some(number)),
                    derived(share)
                )
            })
            .collect();
        let label = format!("Installs by {}", title.to_lowercase());
        html.push_str(&figure(
            title,
            &chart::bars(&label, &shown, &[Plot::new(&installs, 0)]),
            &[],
            &table(
                "environments",
                &label,
                &[(title, false), ("Installs", true), ("Share", true)],
                &rows,
            ),
        ));
    }
    html.push_str("</div>\n</section>\n");
    html
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

/// A view's table (`overview::tables`): each API value with its pointer.
fn view_table(spec: &tables::Table, answer: &Value) -> String {
    let head: Vec<(&str, bool)> = spec
        .columns
        .iter()
        .map(|(name, column)| (*name, column.is_numeric()))
        .collect();
    let rows: Vec<String> = spec
        .cells(answer)
        .iter()
        .map(|cells| {
            cells
                .iter()
                .enumerate()
                .map(|(index, cell)| html_cell(cell, index == 0))
                .collect()
        })
        .collect();
    table(spec.view, spec.caption, &head, &rows)
}

/// One cell: a row's first as its header; an API value with `data-api`;
/// a tally with each number's pointer.
fn html_cell(cell: &Cell, first: bool) -> String {
    let text = escape(&cell.text);
    match (&cell.pointer, cell.numeric) {
        (Some(pointer), _) if first => {
            format!(
                "<th scope=\"row\" data-api=\"{}\">{text}</th>",
                escape(pointer)
            )
        }
        (Some(pointer), true) => {
            format!(
                "<td class=\"num\" data-api=\"{}\">{text}</td>",
                escape(pointer)
            )
        }
        (Some(pointer), false) => format!("<td data-api=\"{}\">{text}</td>", escape(pointer)),
        (None, true) => derived(&text),
        (None, false) => format!("<td>{}</td>", tally_cell(&cell.parts)),
    }
}

/// A chart with its caption, its legend (when it has several series) and,
/// under it, the table of its numbers.
fn figure(caption: &str, svg: &str, plots: &[Plot<'_>], table: &str) -> String {
    let mut html = format!(
        "<figure>\n<figcaption>{}</figcaption>\n{svg}\n",
        escape(caption)
    );
    if !plots.is_empty() {
        html.push_str("<ul class=\"legend\">");
        for plot in plots {
            let _ = write!(
                html,
                "<li><span class=\"swatch c{}\"></span>{}</li>",
                plot.colour,
                escape(&plot.series.name)
            );
        }
        html.push_str("</ul>\n");
    }
    html.push_str(table);
    html.push_str("</figure>\n");
    html
}

/// A table of a view's numbers; `head` names each column and whether it
/// holds numbers (right-aligned).
fn table(view: &str, caption: &str, head: &[(&str, bool)], rows: &[String]) -> String {
    let mut html = format!(
        "<div class=\"table\"><table data-view=\"{view}\">\n<caption>{}</caption>\n<thead><tr>",
        escape(caption)
    );
    for (name, numeric) in head {
        let _ = write!(
            html,
            "<th scope=\"col\"{}>{}</th>",
            if *numeric { " class=\"num\"" } else { "" },
            escape(name)
        );
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        let _ = writeln!(html, "<tr>{row}</tr>");
    }
    html.push_str("</tbody>\n</table></div>\n");
    html
}

/// The daily records table's columns: with a "by reason" column when the
/// days' `dropped` are `reason → N` objects.
fn records_head(by_reason: bool) -> Vec<(&'static str, bool)> {
    let mut head = vec![("Day", false), ("Records", true), ("Dropped", true)];
    if by_reason {
        head.push(("Dropped by reason", false));
    }
    head
}

/// A tally's entries in one cell, largest first: `timeout 3, NotFound 1`,
/// each number with its pointer.
fn tally_cell(parts: &[(String, String, String)]) -> String {
    parts
        .iter()
        .map(|(name, pointer, number)| {
            format!(
                "<span class=\"kind\">{}</span> <span data-api=\"{}\">{number}</span>",
                escape(name),
                escape(pointer)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A long table, folded under its caption.
fn details(table: String) -> String {
    format!("<details><summary>Table</summary>\n{table}</details>\n")
}

/// A cell with an API number (`data-api`: its JSON pointer).
fn api_number(pointer: &str, value: Option<&Value>) -> String {
    html_cell(&Cell::api(pointer.to_owned(), value, true), false)
}

/// A cell with an API string; an empty one shows as "(none)".
fn api_text(pointer: &str, value: Option<&Value>) -> String {
    html_cell(&Cell::api(pointer.to_owned(), value, false), false)
}

/// A row's first cell, a header cell with an API string.
fn api_text_head(pointer: &str, value: Option<&Value>) -> String {
    html_cell(&Cell::api(pointer.to_owned(), value, false), true)
}

/// A cell with a derived number (a rate, a share, a sum).
fn derived(text: &str) -> String {
    format!("<td class=\"num\">{text}</td>")
}
