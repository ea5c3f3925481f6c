//! A failed call is sent with its error's kind: the `TrackedError` kind
//! when the error type implements it (std's errors, a derived enum, a
//! boxed `dyn Error` holding a known type), else the type's name; never a
//! byte of its message (a property test with random messages).

use crate::common::{client, session_ends};
use proptest::prelude::*;
use std::error::Error;
use std::io;
use telemetry_core::{tracked_command, tracked_tool, Event, TrackedError};

/// An app's error enum; every field holds text that must never be sent.
#[derive(Debug, TrackedError)]
enum AgentError {
    RateLimited {
        detail: String,
    },
    Refused(String),
    #[tracked_error(kind = "bad_input")]
    BadInput(String, u8),
}

/// An error type without the trait: sent by its type name.
#[derive(Debug)]
struct Untracked(#[allow(dead_code)] String);

type BoxError = Box<dyn Error + Send + Sync>;

#[tracked_tool]
fn read(message: &str, kind: io::ErrorKind) -> io::Result<()> {
    Err(io::Error::new(kind, message.to_owned()))
}

#[tracked_tool]
fn other(message: &str) -> Result<(), io::Error> {
    Err(io::Error::other(message.to_owned()))
}

#[tracked_tool]
fn agent(error: AgentError) -> Result<u8, AgentError> {
    Err(error)
}

#[tracked_tool]
fn boxed(error: BoxError) -> Result<u8, BoxError> {
    Err(error)
}

#[tracked_tool]
fn parse(text: &str) -> Result<u8, std::num::ParseIntError> {
    let n = text.parse::<u8>()?;
    Ok(n)
}

#[tracked_tool]
fn json(text: &str) -> serde_json::Result<Vec<u8>> {
    serde_json::from_str(text)
}

#[tracked_tool]
fn untracked(message: &str) -> Result<(), Untracked> {
    Err(Untracked(message.to_owned()))
}

#[tracked_tool]
fn unbounded<E>(error: E) -> Result<(), E> {
    Err(error)
}

#[tracked_tool]
fn bounded<E: TrackedError>(error: E) -> Result<(), E> {
    Err(error)
}

#[tracked_command]
fn command(message: &str) -> io::Result<()> {
    read(message, io::ErrorKind::PermissionDenied)
}

#[tracked_tool]
async fn fetch(message: &str) -> Result<(), AgentError> {
    Err(AgentError::RateLimited {
        detail: message.to_owned(),
    })
}

/// Runs `calls` in a fresh client's scope: the `error` of every command
/// and tool event they recorded, oldest first.
fn errors_of(calls: impl FnOnce()) -> Vec<String> {
    let (telemetry, sink) = client();
    telemetry.scope(calls);
    sink.records()
        .iter()
        .filter_map(|record| match record.event() {
            Event::Tool(event) => Some(&event.outcome),
            Event::Command(event) => Some(&event.outcome),
            _ => None,
        })
        .map(|outcome| outcome.error_kind().unwrap_or("<success>").to_owned())
        .collect()
}

#[test]
fn an_io_error_is_sent_by_its_error_kind() {
    let errors = errors_of(|| {
        assert!(read("/home/someone/notes.txt", io::ErrorKind::NotFound).is_err());
        assert!(read("/etc/shadow", io::ErrorKind::PermissionDenied).is_err());
        assert!(read("10.0.0.7:443", io::ErrorKind::TimedOut).is_err());
        assert!(other("SECRET").is_err());
        assert!(command("SECRET").is_err());
    });
    assert_eq!(
        errors,
        [
            "NotFound",
            "PermissionDenied",
            "TimedOut",
            "Other",
            "PermissionDenied",
            "PermissionDenied"
        ]
    );
}

#[test]
fn a_derived_enum_is_sent_by_its_variant_or_its_override() {
    let errors = errors_of(|| {
        let detail = "SECRET".to_owned();
        assert!(agent(AgentError::RateLimited { detail }).is_err());
        assert!(agent(AgentError::Refused("SECRET".into())).is_err());
        assert!(agent(AgentError::BadInput("SECRET".into(), 1)).is_err());
    });
    assert_eq!(errors, ["RateLimited", "Refused", "bad_input"]);
}

#[test]
fn an_async_call_is_sent_by_its_kind() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let errors = errors_of(|| assert!(runtime.block_on(fetch("SECRET")).is_err()));
    assert_eq!(errors, ["RateLimited"]);
}

#[test]
fn std_and_serde_errors_are_sent_by_their_kind() {
    let errors = errors_of(|| {
        assert!(parse("SECRET").is_err());
        assert!(parse("").is_err());
        assert!(parse("999").is_err());
        assert_eq!(parse("7"), Ok(7));
        assert!(json("[SECRET]").is_err());
        assert!(json("[1, 300]").is_err());
    });
    assert_eq!(
        errors,
        [
            "InvalidDigit",
            "Empty",
            "PosOverflow",
            "<success>",
            "Syntax",
            "Data"
        ]
    );
}

#[test]
fn a_boxed_error_is_sent_by_the_known_kind_inside_else_the_box_type() {
    let errors = errors_of(|| {
        let timed_out = io::Error::new(io::ErrorKind::TimedOut, "SECRET");
        assert!(boxed(Box::new(timed_out)).is_err());
        assert!(boxed(Box::new("x".parse::<u8>().unwrap_err())).is_err());
        assert!(boxed("SECRET".into()).is_err());
        assert!(boxed(Box::new(AgentError::Refused("SECRET".into()))).is_err());
    });
    let box_type = std::any::type_name::<BoxError>();
    assert_eq!(errors, ["TimedOut", "InvalidDigit", box_type, box_type]);
}

#[test]
fn without_the_trait_the_type_name_is_sent_as_before() {
    let errors = errors_of(|| {
        assert!(untracked("SECRET").is_err());
        // A generic error resolves where the function is written.
        assert!(unbounded(io::Error::from(io::ErrorKind::NotFound)).is_err());
        assert!(bounded(io::Error::from(io::ErrorKind::NotFound)).is_err());
    });
    assert_eq!(
        errors,
        [
            std::any::type_name::<Untracked>(),
            "std::io::error::Error",
            "NotFound"
        ]
    );
}

#[test]
fn a_session_end_lists_the_distinct_kinds() {
    let (telemetry, sink) = client();
    let session = telemetry.start_session("root");
    session.scope(|| {
        assert!(read("a", io::ErrorKind::NotFound).is_err());
        assert!(read("b", io::ErrorKind::NotFound).is_err());
        assert!(agent(AgentError::Refused("SECRET".into())).is_err());
        assert!(std::panic::catch_unwind(|| -> io::Result<()> { read_or_panic() }).is_err());
    });
    session.end();
    let end = &session_ends(&sink)[0];
    assert_eq!(end.error_count, 4);
    assert_eq!(end.errors, ["NotFound", "Refused", "panic"]);
}

#[tracked_tool]
fn read_or_panic() -> io::Result<()> {
    panic!("SECRET")
}

/// The record of one failed tool call, as JSON, without the fields that
/// differ between any two records (id, time, duration, user).
fn failed_record(failing: impl FnOnce()) -> String {
    let (telemetry, sink) = client();
    telemetry.scope(failing);
    let records = sink.records();
    assert_eq!(records.len(), 1);
    let mut record = serde_json::to_value(&records[0]).unwrap();
    record["event_timestamp"] = 0.into();
    let properties = record["properties"].as_object_mut().unwrap();
    for volatile in ["event_id", "duration_ms", "user_uuid"] {
        properties.remove(volatile);
    }
    record.to_string()
}

/// The ways a message can travel in an error, each made from `message`.
fn failures(message: &str) -> Vec<(&'static str, String)> {
    let owned = || message.to_owned();
    vec![
        (
            "io with kind",
            failed_record(|| drop(read(message, io::ErrorKind::NotFound))),
        ),
        ("io other", failed_record(|| drop(other(message)))),
        (
            "derived, struct variant",
            failed_record(|| drop(agent(AgentError::RateLimited { detail: owned() }))),
        ),
        (
            "derived, tuple variant",
            failed_record(|| drop(agent(AgentError::Refused(owned())))),
        ),
        (
            "derived, override",
            failed_record(|| drop(agent(AgentError::BadInput(owned(), 1)))),
        ),
        ("boxed text", failed_record(|| drop(boxed(owned().into())))),
        (
            "boxed io",
            failed_record(|| drop(boxed(Box::new(io::Error::other(owned()))))),
        ),
        (
            "boxed enum",
            failed_record(|| drop(boxed(Box::new(AgentError::Refused(owned()))))),
        ),
    ]
}

impl std::fmt::Display for AgentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentError::RateLimited { detail } => write!(f, "rate limited: {detail}"),
            AgentError::Refused(text) => f.write_str(text),
            AgentError::BadInput(text, code) => write!(f, "{text} ({code})"),
        }
    }
}

impl Error for AgentError {}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// No run of 4 or more characters of the message reaches the record:
    /// the record is the same as for a fixed message, and none of the
    /// message's 4-character windows is in it unless the record for the
    /// fixed message has it too.
    #[test]
    fn no_byte_of_a_message_reaches_the_record(message in "\\PC{4,48}") {
        let baseline = failures("x");
        let with_message = failures(&message);
        let chars: Vec<char> = message.chars().collect();
        for ((how, expected), (_, record)) in baseline.iter().zip(&with_message) {
            prop_assert_eq!(record, expected, "{}", how);
            for window in chars.windows(4) {
                let window: String = window.iter().collect();
                let escaped = serde_json::to_string(&window).unwrap();
                let escaped = &escaped[1..escaped.len() - 1];
                prop_assert!(
                    expected.contains(escaped) || !record.contains(escaped),
                    "{}: {:?} in {}", how, window, record
                );
            }
        }
    }
}
