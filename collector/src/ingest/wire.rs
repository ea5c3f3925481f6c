//! The toolkit's own body: `{"records":[RECORD, ...]}`.

use super::{BodyError, Parsed};
use serde_json::Value;

/// The records of a wire body; records that are not usable are counted as
/// rejected (see [`super::is_usable`]).
pub fn parse(bytes: &[u8]) -> Result<Parsed, BodyError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| BodyError::Malformed(format!("the body is not JSON: {error}")))?;
    let Value::Object(mut body) = value else {
        return Err(BodyError::Malformed(
            "the body is not a JSON object with a \"records\" array".to_owned(),
        ));
    };
    let Some(Value::Array(records)) = body.remove("records") else {
        return Err(BodyError::Malformed(
            "the body has no \"records\" array".to_owned(),
        ));
    };
    let total = records.len();
    let records: Vec<Value> = records.into_iter().filter(super::is_usable).collect();
    Ok(Parsed {
        rejected: total - records.len(),
        records,
    })
}
