//! The sessions' figures: counts, the share with errors, tool calls and
//! durations.

use super::table::{api_number, derived, table};
use crate::overview::tables::json_pointer;
use crate::overview::{count, figures, Overview};
use serde_json::Value;

/// The sessions' figures.
pub(super) fn sessions(overview: &Overview) -> String {
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
