//! How a tracked call ends: `?` and early `return` are recorded once, a
//! panic is recorded and then continues with the same payload, and a
//! `-> !` function records the panic that ends it.

use crate::common::{assert_failure, assert_success, calls, client, only_call};
use std::any::Any;
use std::fmt::Debug;
use std::panic::{self, AssertUnwindSafe};
use telemetry_core::{tracked_command, tracked_tool, MemorySink};

#[derive(Debug, PartialEq)]
struct ParseFailed;

impl From<std::num::ParseIntError> for ParseFailed {
    fn from(_: std::num::ParseIntError) -> ParseFailed {
        ParseFailed
    }
}

#[tracked_tool]
fn double(text: &str) -> Result<u32, ParseFailed> {
    if text == "skip" {
        return Ok(0);
    }
    let n: u32 = text.parse()?;
    Ok(n * 2)
}

#[test]
fn question_mark_is_recorded_once_as_the_converted_error() {
    let (telemetry, sink) = client();
    assert_eq!(telemetry.scope(|| double("x")), Err(ParseFailed));
    let kind = std::any::type_name::<ParseFailed>();
    assert_failure(&only_call(&sink), "tool", "double", kind);
}

#[test]
fn early_return_is_recorded_once() {
    let (telemetry, sink) = client();
    assert_eq!(telemetry.scope(|| double("skip")), Ok(0));
    assert_success(&only_call(&sink), "tool", "double");
    assert_eq!(telemetry.scope(|| double("21")), Ok(42));
    assert_eq!(calls(&sink).len(), 2);
}

#[derive(Debug, PartialEq)]
struct Payload(u32);

#[tracked_tool]
fn explode(code: u32) -> Result<(), ParseFailed> {
    panic::panic_any(Payload(code))
}

#[tracked_command]
fn explode_with_message() -> u8 {
    panic!("boom")
}

/// Runs `call` in a fresh client's scope, where it must panic: the panic's
/// payload, caught, and the sink.
#[track_caller]
fn panic_of<T: Debug>(call: impl FnOnce() -> T) -> (Box<dyn Any + Send>, MemorySink) {
    let (telemetry, sink) = client();
    let caught = telemetry.scope(|| panic::catch_unwind(AssertUnwindSafe(call)));
    (caught.expect_err("the panic propagates"), sink)
}

#[test]
fn panic_is_recorded_and_propagates_with_the_same_payload() {
    let (payload, sink) = panic_of(|| explode(7));
    assert_eq!(payload.downcast_ref::<Payload>(), Some(&Payload(7)));
    assert_failure(&only_call(&sink), "tool", "explode", "panic");

    let (payload, sink) = panic_of(explode_with_message);
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    assert_failure(
        &only_call(&sink),
        "command",
        "explode_with_message",
        "panic",
    );
}

#[tracked_tool]
fn outer() -> u8 {
    inner() + 1
}

#[tracked_tool]
fn inner() -> u8 {
    panic!("inner")
}

#[test]
fn a_panic_through_nested_tracked_calls_is_recorded_by_each() {
    let (_, sink) = panic_of(outer);
    let calls = calls(&sink);
    assert_eq!(calls.len(), 2);
    assert_failure(&calls[0], "tool", "inner", "panic");
    assert_failure(&calls[1], "tool", "outer", "panic");
}

#[tracked_command(name = "exit-with-error")]
fn fail(code: u32) -> ! {
    panic::panic_any(Payload(code))
}

#[test]
fn a_never_returning_fn_records_its_panic() {
    let (payload, sink) = panic_of(|| fail(3));
    assert_eq!(payload.downcast_ref(), Some(&Payload(3)));
    assert_failure(&only_call(&sink), "command", "exit-with-error", "panic");
}

#[tracked_tool]
fn fill(buffer: &mut Vec<u8>, fail: bool) -> usize {
    buffer.push(1);
    assert!(!fail, "fill failed");
    buffer.len()
}

#[test]
fn state_changed_before_a_panic_is_kept() {
    let mut buffer = Vec::new();
    let (_, sink) = panic_of(|| fill(&mut buffer, true));
    assert_eq!(buffer, [1]);
    assert_failure(&only_call(&sink), "tool", "fill", "panic");
}
