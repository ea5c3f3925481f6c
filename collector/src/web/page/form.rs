//! The filter form in the page's header: app, range, from–to, version
//! and CI, sent as a plain GET to `/`.

use super::Page;
use crate::overview::series::UNNAMED;
use crate::overview::text;
use crate::web::filter::{Range, PRESETS};
use crate::web::html::escape;
use serde_json::Value;
use std::fmt::Write as _;

/// The filter form: a plain GET to `/`.
pub(super) fn form(page: &Page<'_>, apps: &[Value]) -> String {
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
