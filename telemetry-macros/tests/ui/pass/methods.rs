// Methods taking `&self`, `&mut self` (returning a borrow of self) and `self`.
#![deny(warnings)]

use telemetry_core::tracked_tool;

#[derive(Default)]
struct Buffer {
    lines: Vec<String>,
    reads: u32,
}

impl Buffer {
    #[tracked_tool]
    fn len(&self) -> usize {
        self.lines.len()
    }

    #[tracked_tool]
    fn first(&self) -> Option<&String> {
        self.lines.first()
    }

    #[tracked_tool]
    fn lines_mut(&mut self) -> &mut Vec<String> {
        self.reads += 1;
        &mut self.lines
    }

    #[tracked_tool]
    fn last_mut<'a>(&'a mut self, fallback: &'a mut String) -> &'a mut String {
        self.lines.last_mut().unwrap_or(fallback)
    }

    #[tracked_tool]
    fn into_lines(self) -> Vec<String> {
        self.lines
    }

    #[tracked_tool]
    fn new_with(line: &str) -> Self {
        Self {
            lines: vec![line.to_owned()],
            reads: 0,
        }
    }
}

fn main() {
    let mut buffer = Buffer::default();
    buffer.lines_mut().push("a".into());
    let mut fallback = String::new();
    buffer.last_mut(&mut fallback).push('b');
    assert_eq!(buffer.len(), 1);
    assert_eq!(buffer.first().map(String::as_str), Some("ab"));
    assert_eq!(buffer.reads, 1);
    assert_eq!(buffer.into_lines(), ["ab"]);
    assert_eq!(Buffer::new_with("x").len(), 1);
}
