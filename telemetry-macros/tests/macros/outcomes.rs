//! How a tracked call ends: `?` and early `return` are recorded once, a
//! panic is recorded and then continues with the same payload, and a
//! `-> !` function records the panic that ends it.

use crate::common::{assert_failure, assert_success, calls, client, only_call};
use std::panic::{self, AssertUnwindSafe};
use telemetry_core::{tracked_command, tracked_tool};

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

#[test]
fn panic_is_recorded_and_propagates_with_the_same_payload() {
    let (telemetry, sink) = client();
    let caught = telemetry.scope(|| panic::catch_unwind(|| explode(7)));
    let payload = caught.expect_err("the panic propagates");
    assert_eq!(payload.downcast_ref::<Payload>(), Some(&Payload(7)));
    assert_failure(&only_call(&sink), "tool", "explode", "panic");

    let caught = telemetry.scope(|| panic::catch_unwind(explode_with_message));
    let payload = caught.expect_err("the panic propagates");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    assert_failure(&calls(&sink)[1], "command", "explode_with_message", "panic");
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
    let (telemetry, sink) = client();
    let caught = telemetry.scope(|| panic::catch_unwind(outer));
    assert!(caught.is_err());
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
    let (telemetry, sink) = client();
    let caught = telemetry.scope(|| panic::catch_unwind(|| fail(3)));
    assert_eq!(caught.unwrap_err().downcast_ref(), Some(&Payload(3)));
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
    let (telemetry, sink) = client();
    let mut buffer = Vec::new();
    let caught =
        telemetry.scope(|| panic::catch_unwind(AssertUnwindSafe(|| fill(&mut buffer, true))));
    assert!(caught.is_err());
    assert_eq!(buffer, [1]);
    assert_failure(&only_call(&sink), "tool", "fill", "panic");
}
