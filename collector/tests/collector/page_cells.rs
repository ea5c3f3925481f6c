//! How a table cell of the page must show an API value, and reading the
//! page's `data-api` cells: what the page's tests (rendered, served, in a
//! browser) check cell by cell against `/api/v1/*`.

use serde_json::Value;
use telemetry_collector::overview::figures;

/// The text a table shows for an API value: a number as the API gives it
/// (thousands separators), a string as is, an empty string as "(none)".
pub fn shown(value: &Value) -> String {
    match value {
        Value::String(text) if text.is_empty() => "(none)".to_owned(),
        Value::String(text) => text.clone(),
        number => figures::number(number),
    }
}

/// Checks one `data-api` cell against the answer it points into.
pub fn check_cell(view: &str, answer: &Value, pointer: &str, text: &str) {
    let value = answer
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{view}{pointer} is not in the answer {answer}"));
    assert_eq!(text, shown(value), "{view}{pointer}");
    if let (Some(number), Ok(read)) = (value.as_f64(), text.replace(',', "").parse::<f64>()) {
        assert_eq!(
            number, read,
            "{view}{pointer} reads back as the API's number"
        );
    }
}

/// Every number in an answer, as JSON pointers.
pub fn numeric_leaves(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    leaves(value, String::new(), &mut out);
    out
}

fn leaves(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Number(_) => out.push(at),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                leaves(item, format!("{at}/{index}"), out);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                leaves(
                    item,
                    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        _ => {}
    }
}

/// Every `data-api` cell of a page: (view of its table, JSON pointer, text
/// shown).
pub fn api_cells(html: &str) -> Vec<(String, String, String)> {
    let mut cells = Vec::new();
    let mut view = String::new();
    let mut rest = html;
    loop {
        let next_table = rest.find("<table data-view=\"");
        let next_cell = rest.find(" data-api=\"");
        match (next_table, next_cell) {
            (Some(table), cell) if cell.is_none_or(|cell| table < cell) => {
                rest = &rest[table + 18..];
                view = rest[..rest.find('"').unwrap()].to_owned();
            }
            (_, Some(cell)) => {
                rest = &rest[cell + 11..];
                let end = rest.find('"').unwrap();
                let pointer = unescape(&rest[..end]);
                let body = &rest[rest.find('>').unwrap() + 1..];
                let close = ["</td>", "</th>", "</span>"]
                    .iter()
                    .filter_map(|tag| body.find(tag))
                    .min()
                    .unwrap();
                cells.push((view.clone(), pointer, unescape(&strip_tags(&body[..close]))));
            }
            _ => return cells,
        }
    }
}

fn strip_tags(text: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
