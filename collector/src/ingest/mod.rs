//! From a request body to wire records: one function for both formats
//! ([`records_of`]), the decoding ([`gzip`]) and each format's reader.

pub mod gzip;
pub mod otlp;
pub mod wire;

use serde_json::Value;

/// Which body a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `POST /v1/events`: `{"records":[…]}`.
    Wire,
    /// `POST /v1/logs`: OTLP/HTTP JSON.
    Otlp,
}

/// The usable records of a body, and how many were skipped.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Wire records, in the body's order.
    pub records: Vec<Value>,
    /// Records skipped as unusable.
    pub rejected: usize,
}

/// Why a body was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Not JSON, or not the format's shape (400).
    Malformed(String),
    /// Over a size bound (413).
    TooLarge(String),
    /// A `Content-Encoding` the collector does not read (415).
    Unsupported(String),
}

impl BodyError {
    /// The HTTP status this refusal is answered with.
    pub fn status(&self) -> u16 {
        match self {
            BodyError::Malformed(_) => 400,
            BodyError::TooLarge(_) => 413,
            BodyError::Unsupported(_) => 415,
        }
    }

    /// The reason, for the answer's body.
    pub fn reason(&self) -> &str {
        match self {
            BodyError::Malformed(reason)
            | BodyError::TooLarge(reason)
            | BodyError::Unsupported(reason) => reason,
        }
    }
}

/// Decodes (`Content-Encoding`) and reads a body of either format.
pub fn records_of(
    format: Format,
    body: &[u8],
    encoding: Option<&str>,
) -> Result<Parsed, BodyError> {
    if body.len() > gzip::MAX_BODY {
        return Err(BodyError::TooLarge("the body is over 5 MiB".to_owned()));
    }
    let bytes = gzip::decode(body, encoding)?;
    match format {
        Format::Wire => wire::parse(&bytes),
        Format::Otlp => otlp::parse(&bytes),
    }
}

/// A record the store can keep: an object with `event` (a string),
/// `event_timestamp` (an integer) and `source` (a string).
pub fn is_usable(record: &Value) -> bool {
    record.get("event").is_some_and(Value::is_string)
        && record
            .get("event_timestamp")
            .is_some_and(|stamp| stamp.is_i64() || stamp.is_u64())
        && record.get("source").is_some_and(Value::is_string)
}
