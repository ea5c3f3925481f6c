//! Every sync function shape records one event with the right name, kind
//! and outcome, and returns exactly what the body returned.

use crate::common::{assert_failure, assert_success, calls, client, only_call};
use std::fmt::Display;
use std::time::Duration;
use std::{any, io};
use telemetry_core::{tracked_command, tracked_tool};

#[derive(Debug, PartialEq)]
pub struct AppError;

/// An anyhow-style alias with a default error type.
type AppResult<T, E = AppError> = Result<T, E>;

#[tracked_command]
fn unit() {}

#[tracked_command(name = "run")]
fn answer() -> u32 {
    42
}

#[tracked_tool]
fn read(fail: bool) -> io::Result<String> {
    if fail {
        Err(io::Error::new(io::ErrorKind::NotFound, "/secret/path"))
    } else {
        Ok("contents".to_owned())
    }
}

#[tracked_tool]
fn via_alias(fail: bool) -> AppResult<u8> {
    if fail {
        Err(AppError)
    } else {
        Ok(1)
    }
}

#[tracked_tool]
fn boxed() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Err("a message that is never sent".into())
}

#[tracked_tool]
fn lookup() -> Option<u8> {
    None
}

#[tracked_tool]
fn slow() -> u8 {
    std::thread::sleep(Duration::from_millis(20));
    1
}

#[test]
fn free_fns_record_name_kind_and_outcome() {
    let (telemetry, sink) = client();
    telemetry.scope(|| {
        unit();
        assert_eq!(answer(), 42);
        assert_eq!(read(false).unwrap(), "contents");
        assert_eq!(read(true).unwrap_err().kind(), io::ErrorKind::NotFound);
    });
    let calls = calls(&sink);
    assert_eq!(calls.len(), 4);
    assert_success(&calls[0], "command", "unit");
    assert_success(&calls[1], "command", "run");
    assert_success(&calls[2], "tool", "read");
    assert_failure(&calls[3], "tool", "read", "NotFound");
}

#[test]
fn an_err_through_any_alias_is_a_failure_named_by_its_type() {
    let (telemetry, sink) = client();
    telemetry.scope(|| {
        assert_eq!(via_alias(true), Err(AppError));
        assert_eq!(via_alias(false), Ok(1));
        assert!(boxed().is_err());
    });
    let calls = calls(&sink);
    assert_failure(&calls[0], "tool", "via_alias", any::type_name::<AppError>());
    assert_success(&calls[1], "tool", "via_alias");
    let boxed_kind = any::type_name::<Box<dyn std::error::Error + Send + Sync>>();
    assert_failure(&calls[2], "tool", "boxed", boxed_kind);
}

#[test]
fn only_result_errs_fail_none_is_a_success() {
    let (telemetry, sink) = client();
    assert_eq!(telemetry.scope(lookup), None);
    assert_success(&only_call(&sink), "tool", "lookup");
}

#[test]
fn the_duration_is_measured() {
    let (telemetry, sink) = client();
    assert_eq!(telemetry.scope(slow), 1);
    let call = only_call(&sink);
    assert!((20..10_000).contains(&call.duration_ms), "{call:#?}");
}

#[test]
fn the_wire_record_has_the_kind_not_the_message() {
    let (telemetry, sink) = client();
    let _ = telemetry.scope(|| read(true));
    let record = serde_json::to_value(&sink.records()[0]).unwrap();
    assert_eq!(record["event"], "tool");
    let properties = &record["properties"];
    assert_eq!(properties["tool_name"], "read");
    assert_eq!(properties["is_success"], false);
    assert_eq!(properties["error"], "NotFound");
    assert!(!record.to_string().contains("/secret/path"));
}

#[test]
fn a_command_sends_flag_names_only() {
    let (telemetry, sink) = client();
    telemetry.scope(unit);
    let call = only_call(&sink);
    // The test binary's own command line: positionals (a test filter) are
    // dropped, so only flags can appear.
    assert!(
        call.args.iter().all(|arg| arg.starts_with('-')),
        "{call:#?}"
    );
}

#[derive(Debug, Default)]
struct Notebook {
    pages: Vec<String>,
    edits: u32,
}

impl Notebook {
    #[tracked_tool]
    fn page_count(&self) -> usize {
        self.pages.len()
    }

    #[tracked_tool]
    fn pages_mut(&mut self) -> &mut Vec<String> {
        self.edits += 1;
        &mut self.pages
    }

    #[tracked_tool]
    fn into_pages(self) -> Vec<String> {
        self.pages
    }

    #[tracked_tool]
    fn open(title: &str) -> Self {
        Notebook {
            pages: vec![title.to_owned()],
            edits: 0,
        }
    }
}

#[test]
fn methods_by_ref_by_mut_ref_and_by_value() {
    let (telemetry, sink) = client();
    telemetry.scope(|| {
        let mut notebook = Notebook::open("title");
        notebook.pages_mut().push("page".to_owned());
        assert_eq!(notebook.edits, 1);
        assert_eq!(notebook.page_count(), 2);
        assert_eq!(notebook.into_pages(), ["title", "page"]);
    });
    let names: Vec<_> = calls(&sink).into_iter().map(|call| call.name).collect();
    assert_eq!(names, ["open", "pages_mut", "page_count", "into_pages"]);
}

trait Tool {
    fn call(&self, input: &str) -> Result<usize, AppError>;

    #[tracked_tool(name = "tool.describe")]
    fn describe(&self) -> &'static str {
        "a tool"
    }
}

struct Counter;

impl Tool for Counter {
    #[tracked_tool(name = "counter:call")]
    fn call(&self, input: &str) -> Result<usize, AppError> {
        if input.is_empty() {
            return Err(AppError);
        }
        Ok(input.len())
    }
}

#[test]
fn trait_impl_and_provided_methods() {
    let (telemetry, sink) = client();
    telemetry.scope(|| {
        assert_eq!(Counter.call("abc"), Ok(3));
        assert_eq!(Counter.call(""), Err(AppError));
        assert_eq!(Counter.describe(), "a tool");
    });
    let calls = calls(&sink);
    assert_success(&calls[0], "tool", "counter:call");
    assert_failure(
        &calls[1],
        "tool",
        "counter:call",
        any::type_name::<AppError>(),
    );
    assert_success(&calls[2], "tool", "tool.describe");
}

#[tracked_tool]
fn largest<'a, T>(items: &'a [T]) -> Option<&'a T>
where
    T: Ord,
{
    items.iter().max()
}

#[tracked_tool]
fn parse_as<T>(text: &str) -> Result<T, T::Err>
where
    T: std::str::FromStr,
{
    text.parse()
}

#[tracked_tool]
fn show(value: impl Display) -> impl Display {
    format!("<{value}>")
}

#[tracked_tool]
fn checked(value: impl Into<i64>) -> Result<impl Display, AppError> {
    let value = value.into();
    if value < 0 {
        return Err(AppError);
    }
    Ok(value)
}

#[test]
fn generics_where_clauses_lifetimes_and_impl_trait() {
    let (telemetry, sink) = client();
    telemetry.scope(|| {
        assert_eq!(largest(&[3, 9, 1]), Some(&9));
        assert_eq!(parse_as::<u8>("7"), Ok(7));
        assert!(parse_as::<u8>("x").is_err());
        assert_eq!(show(5).to_string(), "<5>");
        assert_eq!(checked(4).unwrap().to_string(), "4");
        assert!(checked(-4).is_err());
    });
    let calls = calls(&sink);
    assert_eq!(calls.len(), 6);
    assert_success(&calls[0], "tool", "largest");
    assert_success(&calls[1], "tool", "parse_as");
    // The kind of a generic error is the name of the type it was called with.
    assert_failure(
        &calls[2],
        "tool",
        "parse_as",
        "core::num::error::ParseIntError",
    );
    assert_success(&calls[3], "tool", "show");
    assert_success(&calls[4], "tool", "checked");
    assert_failure(&calls[5], "tool", "checked", any::type_name::<AppError>());
}

#[tracked_tool]
fn pass_through<T>(value: T) -> T {
    value
}

#[test]
fn the_outcome_follows_the_declared_type_so_a_generic_t_is_a_success() {
    let (telemetry, sink) = client();
    let failed: Result<(), AppError> = Err(AppError);
    assert_eq!(telemetry.scope(|| pass_through(failed)), Err(AppError));
    assert_success(&only_call(&sink), "tool", "pass_through");
}

#[tracked_tool]
fn squares(n: u32) -> Vec<u32> {
    (1..=n).map(|i| i * i).collect()
}

#[tracked_tool]
fn label(text: &str) -> String {
    text.into()
}

#[tracked_tool]
fn number(text: &str) -> Result<u64, Box<dyn std::error::Error>> {
    Ok(text.parse()?)
}

#[test]
fn bodies_typed_by_inference() {
    let (telemetry, sink) = client();
    telemetry.scope(|| {
        assert_eq!(squares(3), [1, 4, 9]);
        assert_eq!(label("x"), "x");
        assert_eq!(number("12").unwrap(), 12);
        assert!(number("twelve").is_err());
    });
    let calls = calls(&sink);
    assert_success(&calls[0], "tool", "squares");
    assert_success(&calls[1], "tool", "label");
    assert_success(&calls[2], "tool", "number");
    let kind = "InvalidDigit"; // the kind of the ParseIntError in the box
    assert_failure(&calls[3], "tool", "number", kind);
}

#[tracked_tool]
unsafe fn read_raw(ptr: *const u32) -> u32 {
    // SAFETY: the caller passes a valid pointer.
    unsafe { *ptr }
}

#[test]
fn unsafe_fns() {
    let (telemetry, sink) = client();
    let value = 11;
    // SAFETY: a pointer to a live local.
    assert_eq!(telemetry.scope(|| unsafe { read_raw(&value) }), 11);
    assert_success(&only_call(&sink), "tool", "read_raw");
}

#[tracked_tool]
fn factorial(n: u64) -> u64 {
    if n <= 1 {
        1
    } else {
        n * factorial(n - 1)
    }
}

#[test]
fn recursion_records_every_call_innermost_first() {
    let (telemetry, sink) = client();
    assert_eq!(telemetry.scope(|| factorial(4)), 24);
    let calls = calls(&sink);
    assert_eq!(calls.len(), 4);
    for call in &calls {
        assert_success(call, "tool", "factorial");
    }
}

#[tracked_tool]
fn r#type() -> u8 {
    1
}

#[test]
fn a_raw_identifier_names_the_event_without_r_hash() {
    let (telemetry, sink) = client();
    assert_eq!(telemetry.scope(r#type), 1);
    assert_success(&only_call(&sink), "tool", "type");
}
