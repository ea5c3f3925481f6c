// `?` and early `return` end the body, not the function's bookkeeping.
#![deny(warnings)]

use telemetry_core::{tracked_tool, MemorySink, Telemetry};

#[derive(Debug)]
struct ToolError;

impl From<std::num::ParseIntError> for ToolError {
    fn from(_: std::num::ParseIntError) -> ToolError {
        ToolError
    }
}

#[tracked_tool]
fn parse(text: &str) -> Result<u32, ToolError> {
    if text == "none" {
        return Ok(0);
    }
    let n: u32 = text.parse()?;
    Ok(n * 2)
}

#[tracked_tool]
fn find(items: &[u32], wanted: u32) -> Option<usize> {
    for (i, item) in items.iter().enumerate() {
        if *item == wanted {
            return Some(i);
        }
    }
    let last = items.len().checked_sub(1)?;
    Some(last)
}

fn main() {
    let sink = MemorySink::new();
    let telemetry = Telemetry::builder("app", "1.0")
        .sink(sink.clone())
        .notice(false)
        .env(|_| None)
        .build();
    telemetry.scope(|| {
        assert_eq!(parse("none").unwrap(), 0);
        assert!(parse("x").is_err());
        assert_eq!(parse("2").unwrap(), 4);
        assert_eq!(find(&[1, 2], 2), Some(1));
        assert_eq!(find(&[], 2), None);
    });
    assert_eq!(sink.records().len(), 5);
}
