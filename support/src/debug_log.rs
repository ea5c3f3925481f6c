//! Taking the debug log apart: record lines (JSON) and reason lines.

use crate::json::strict_json;
use crate::MemoryWriter;
use serde_json::Value;

/// The prefix of every debug line.
pub const PREFIX: &str = "[telemetry] ";

/// The debug lines in `text` without their prefix; other lines (the notice,
/// a program's own messages) are left out.
pub fn debug_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix(PREFIX))
        .map(str::to_owned)
        .collect()
}

/// The debug lines that are records (JSON objects), parsed strictly.
/// Panics if a line of `log` lacks the prefix or a record is not strict JSON.
pub fn logged_records(log: &MemoryWriter) -> Vec<Value> {
    log.lines()
        .iter()
        .map(|line| line.strip_prefix(PREFIX).expect("every line is prefixed"))
        .filter(|rest| rest.starts_with('{'))
        .map(|rest| strict_json(rest.as_bytes()).expect("a logged record is strict JSON"))
        .collect()
}

/// The debug lines that are not records (the reasons), without the prefix.
/// Panics if a line of `log` lacks the prefix.
pub fn logged_reasons(log: &MemoryWriter) -> Vec<String> {
    log.lines()
        .iter()
        .map(|line| line.strip_prefix(PREFIX).expect("every line is prefixed"))
        .filter(|rest| !rest.starts_with('{'))
        .map(str::to_owned)
        .collect()
}
