//! "Use per day": installs and records per day, as lines, with the
//! dropped records' reasons.

use super::figure::figure;
use super::table::{api_number, api_text_head, derived, details, table, tally_cell};
use crate::overview::series;
use crate::overview::tables::{json_pointer, Cell};
use crate::overview::{dropped_on, figures, list, tally, Overview};
use crate::web::chart::{self, Plot, FAILURE};
use crate::web::html::escape;
use serde_json::Value;
use std::fmt::Write as _;

/// Installs and records per day, with the dropped records' reasons.
pub(super) fn daily(overview: &Overview) -> String {
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

/// The daily records table's columns: with a "by reason" column when the
/// days' `dropped` are `reason → N` objects.
fn records_head(by_reason: bool) -> Vec<(&'static str, bool)> {
    let mut head = vec![("Day", false), ("Records", true), ("Dropped", true)];
    if by_reason {
        head.push(("Dropped by reason", false));
    }
    head
}
