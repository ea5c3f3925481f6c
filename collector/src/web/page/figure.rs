//! A chart as a figure: caption, SVG, legend and the table of its numbers.

use crate::web::chart::Plot;
use crate::web::html::escape;
use std::fmt::Write as _;

/// A chart with its caption, its legend (when it has several series) and,
/// under it, the table of its numbers.
pub(super) fn figure(caption: &str, svg: &str, plots: &[Plot<'_>], table: &str) -> String {
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
