//! The check that the collector's report counts the runs the demo made.

use serde_json::Value;
use telemetry_collector::views::{self, Query, View};
use telemetry_collector::{day, Store};

/// What the views say that the runs made do not: `sessions` `run`
/// commands (each with three tools, `search_web` failing with `NotFound`,
/// and two model calls) and one failed `fail`.
pub fn report_mismatches(store: &Store, sessions: u64) -> Result<Vec<String>, String> {
    let mut query = Query::last_30_days(day::today());
    query.app = Some("agent".to_owned());
    let view = |view: View| views::answer(store, view, &query).map_err(|error| error.to_string());
    let (commands, tools, tokens, session_view) = (
        view(View::Commands)?,
        view(View::Tools)?,
        view(View::Tokens)?,
        view(View::Sessions)?,
    );
    let find = |answer: &Value, list: &str, name: &str, field: &str| -> u64 {
        answer[list]
            .as_array()
            .and_then(|rows| rows.iter().find(|row| row["name"] == name))
            .and_then(|row| row[field].as_u64())
            .unwrap_or(0)
    };
    let mut problems = Vec::new();
    let mut expect = |what: String, seen: u64, wanted: u64| {
        if seen != wanted {
            problems.push(format!("{what}: {seen}, expected {wanted}"));
        }
    };
    expect(
        "run calls".into(),
        find(&commands, "commands", "run", "calls"),
        sessions,
    );
    expect(
        "fail calls".into(),
        find(&commands, "commands", "fail", "calls"),
        1,
    );
    expect(
        "fail failures".into(),
        find(&commands, "commands", "fail", "failures"),
        1,
    );
    for tool in ["plan_steps", "read_file", "search_web"] {
        expect(
            format!("{tool} calls"),
            find(&tools, "tools", tool, "calls"),
            sessions,
        );
    }
    expect(
        "search_web failures".into(),
        find(&tools, "tools", "search_web", "failures"),
        sessions,
    );
    let model_calls: u64 = tokens["models"]
        .as_array()
        .map(|models| {
            models
                .iter()
                .filter_map(|model| model["calls"].as_u64())
                .sum()
        })
        .unwrap_or(0);
    expect("model calls".into(), model_calls, 2 * sessions);
    expect(
        "sessions".into(),
        session_view["sessions"]["count"].as_u64().unwrap_or(0),
        sessions,
    );
    Ok(problems)
}
