//! A view broken down by day (errors, tokens, versions): a stacked chart
//! per breakdown, then the view's list.

use super::figure::figure;
use super::table::{details, view_table};
use crate::overview::series::Series;
use crate::overview::tables;
use crate::overview::{list, Overview};
use crate::web::chart::{self, Plot};
use crate::web::html::escape;
use std::fmt::Write as _;

/// How many series a chart over days draws before summing the rest into
/// "other" (the tables list every one).
const SERIES_SHOWN: usize = 7;

/// A view's days broken down (a chart each, its table folded under it),
/// then the view's list: beside the chart when there is one, under the
/// charts when there are several.
pub(super) fn section(overview: &Overview, section: &tables::Section) -> String {
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
