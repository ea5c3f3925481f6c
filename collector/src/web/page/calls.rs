//! Commands and tools: calls per name, succeeded and failed, as bars over
//! the view's table.

use super::figure::figure;
use super::table::view_table;
use super::BARS_SHOWN;
use crate::overview::series::Series;
use crate::overview::tables;
use crate::overview::{count, text, Overview};
use crate::web::chart::{self, Plot, FAILURE};

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

/// The `commands` view's section.
pub(super) fn commands(overview: &Overview) -> String {
    calls(overview, &tables::COMMANDS)
}

/// The `tools` view's section.
pub(super) fn tools(overview: &Overview) -> String {
    calls(overview, &tables::TOOLS)
}
