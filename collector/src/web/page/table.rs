//! The page's tables and their cells: each API number carries `data-api`,
//! its JSON pointer in the view's answer.

use crate::overview::tables::{self, Cell};
use crate::web::html::escape;
use serde_json::Value;
use std::fmt::Write as _;

/// A view's table (`overview::tables`): each API value with its pointer.
pub(super) fn view_table(spec: &tables::Table, answer: &Value) -> String {
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

/// A table of a view's numbers; `head` names each column and whether it
/// holds numbers (right-aligned).
pub(super) fn table(view: &str, caption: &str, head: &[(&str, bool)], rows: &[String]) -> String {
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

/// A tally's entries in one cell, largest first: `timeout 3, NotFound 1`,
/// each number with its pointer.
pub(super) fn tally_cell(parts: &[(String, String, String)]) -> String {
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
pub(super) fn details(table: String) -> String {
    format!("<details><summary>Table</summary>\n{table}</details>\n")
}

/// A cell with an API number (`data-api`: its JSON pointer).
pub(super) fn api_number(pointer: &str, value: Option<&Value>) -> String {
    html_cell(&Cell::api(pointer.to_owned(), value, true), false)
}

/// A cell with an API string; an empty one shows as "(none)".
pub(super) fn api_text(pointer: &str, value: Option<&Value>) -> String {
    html_cell(&Cell::api(pointer.to_owned(), value, false), false)
}

/// A row's first cell, a header cell with an API string.
pub(super) fn api_text_head(pointer: &str, value: Option<&Value>) -> String {
    html_cell(&Cell::api(pointer.to_owned(), value, false), true)
}

/// A cell with a derived number (a rate, a share, a sum).
pub(super) fn derived(text: &str) -> String {
    format!("<td class=\"num\">{text}</td>")
}
