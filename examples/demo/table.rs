//! The received records as a text table: one line per record.

use serde_json::Value;
use std::fmt::Write as _;

/// The received records as a table.
pub fn table(records: &[Value]) -> String {
    let header = [
        "#", "event", "name", "success", "duration", "tokens", "cost",
    ];
    let rows: Vec<[String; 7]> = records
        .iter()
        .enumerate()
        .map(|(index, record)| row(index + 1, record))
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut text = String::new();
        for (cell, width) in cells.iter().zip(widths) {
            let _ = write!(text, "{cell:<width$}  ");
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&header.map(str::to_owned));
    line(&widths.map(|width| "-".repeat(width)));
    for row in &rows {
        line(row);
    }
    out
}

/// One record's cells: number, event, name, success, duration, tokens, cost.
fn row(number: usize, record: &Value) -> [String; 7] {
    let props = record.get("properties").unwrap_or(&Value::Null);
    let text = |key: &str| props.get(key).and_then(Value::as_str).unwrap_or("");
    let number_of = |key: &str| props.get(key).and_then(Value::as_u64);
    let event = record.get("event").and_then(Value::as_str).unwrap_or("?");
    let action = text("action");
    let name = match event {
        "command" => action.to_owned(),
        "tool" => text("tool_name").to_owned(),
        "token" => text("model_name").to_owned(),
        "session" => format!("{} ({action})", text("agent_name")),
        _ => String::new(),
    };
    let success = match props.get("is_success").and_then(Value::as_bool) {
        None => "-".to_owned(),
        Some(true) => "yes".to_owned(),
        Some(false) => match props.get("error") {
            Some(Value::String(kind)) => format!("no: {kind}"),
            Some(Value::Array(kinds)) => {
                let kinds: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
                format!("no: {}", kinds.join(", "))
            }
            _ => "no".to_owned(),
        },
    };
    let duration = number_of("duration_ms").map_or("-".to_owned(), |ms| format!("{ms} ms"));
    let tokens = match (number_of("input_tokens"), number_of("output_tokens")) {
        (Some(input), Some(output)) => format!("{input} in + {output} out"),
        _ => "-".to_owned(),
    };
    let cost = props
        .get("cost")
        .and_then(Value::as_f64)
        .map_or("-".to_owned(), |cost| format!("${cost:.4}"));
    let name = match (event, number_of("tool_calls")) {
        ("session", Some(calls)) => format!("{name}, {calls} tool calls"),
        _ => name,
    };
    [
        number.to_string(),
        event.to_owned(),
        name,
        success,
        duration,
        tokens,
        cost,
    ]
}
