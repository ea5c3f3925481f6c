//! "Where it runs": installs by OS, architecture, CI provider and AI
//! agent, a bar chart and a table each.

use super::figure::figure;
use super::table::{api_number, derived, table};
use super::BARS_SHOWN;
use crate::overview::series::Series;
use crate::overview::tables::{self, json_pointer};
use crate::overview::Overview;
use crate::web::chart::{self, Plot};
use crate::web::html::escape;
use std::fmt::Write as _;

/// Installs by OS, arch, CI provider and AI agent.
pub(super) fn environments(overview: &Overview) -> String {
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
