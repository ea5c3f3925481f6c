//! What the page's tests share: how a table cell must show an API value,
//! and every number of an answer by JSON pointer.

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
