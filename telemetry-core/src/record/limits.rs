//! Limits and sanitising: every cap on what a record may hold, and the
//! helpers that cut names, costs and durations to what is sent.
//!
//! Everything a user, a file or the environment controls passes through
//! one of these before it reaches a record, so that every record stays
//! within [`MAX_RECORD_LEN`] bytes whatever the input.

use crate::Outcome;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Longest name (action, tool, model, agent) kept, in bytes; longer names are
/// cut at a character boundary so that every record stays small.
pub const MAX_NAME_LEN: usize = 128;

/// Most distinct error kinds a session end event lists.
pub const MAX_SESSION_ERROR_KINDS: usize = 16;

/// Most live sessions of one client that a tool call can name by id
/// ([`Telemetry::record_tool_call`](crate::Telemetry::record_tool_call)).
/// Starting a session past it forgets the oldest one's id: that session goes
/// on (its guard, its own methods and its scopes still count toward it and
/// end it), but a call that only names its id no longer counts toward its
/// totals. So sessions leaked with `mem::forget` cannot grow the registry,
/// or the cost of a lookup, without limit.
pub const MAX_LIVE_SESSIONS: usize = 1 << 17;

/// Most tags kept; later entries are dropped.
pub const MAX_TAGS: usize = 32;
/// Longest key kept, in bytes; an entry with a longer key is dropped.
pub const MAX_TAG_KEY_LEN: usize = 64;
/// Longest value kept, in bytes; a longer value is cut at a character boundary.
pub const MAX_TAG_VALUE_LEN: usize = 256;
/// Longest `TELEMETRY_TAGS` read, in bytes; the rest is ignored.
pub const MAX_TAGS_INPUT_LEN: usize = 16 * 1024;

/// Most flags one command event carries; the rest are dropped.
pub const MAX_FLAGS: usize = 32;
/// Longest flag name kept, in bytes; a longer one is dropped.
pub const MAX_FLAG_LEN: usize = 64;

/// Longest app version sent, in bytes; a longer one is cut.
pub(crate) const MAX_VERSION_LEN: usize = 64;
/// Longest app name accepted, in bytes; a longer one turns telemetry off.
pub(crate) const MAX_APP_NAME_LEN: usize = 64;

/// The most bytes one record takes on the wire (its JSON, without the
/// `{"records":[...]}` around it), whatever the input.
///
/// Every field is capped: names and error kinds at [`MAX_NAME_LEN`] bytes,
/// tags at [`MAX_TAGS`] entries of [`MAX_TAG_KEY_LEN`] +
/// [`MAX_TAG_VALUE_LEN`] bytes, flags at [`MAX_FLAGS`], a session's error
/// kinds at [`MAX_SESSION_ERROR_KINDS`], the version at 64 bytes. JSON
/// writes a control character as six bytes (`\u0001`), so the worst case, a
/// session end whose every capped field and tag is made of control
/// characters, comes to about 74 KiB; a typical record is under 1 KiB.
pub const MAX_RECORD_LEN: usize = 80 * 1024;

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary.
pub(crate) fn truncate_at_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Cuts a name to [`MAX_NAME_LEN`] bytes; names within the cap are not copied.
pub(crate) fn bounded_name(name: Cow<'static, str>) -> Cow<'static, str> {
    if name.len() <= MAX_NAME_LEN {
        return name;
    }
    Cow::Owned(truncate_at_char_boundary(&name, MAX_NAME_LEN).to_owned())
}

/// An outcome as recorded: a failure's kind is cut like a name.
pub(crate) fn bounded_outcome(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Failure(kind) => Outcome::Failure(bounded_name(kind)),
        other => other,
    }
}

/// A cost as recorded: `NaN`, infinite and negative costs become `0.0`.
pub(crate) fn sane_cost(cost: f64) -> f64 {
    if cost.is_finite() && cost > 0.0 {
        cost
    } else {
        0.0
    }
}

/// Whole milliseconds, saturating at `u64::MAX`.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A session id or agent name as an event holds it: cut to
/// [`MAX_NAME_LEN`] bytes, in one allocation; the empty name (no session)
/// is one shared value and costs none.
pub(crate) fn shared_name(name: &str) -> Arc<str> {
    if name.is_empty() {
        return empty_name();
    }
    Arc::from(truncate_at_char_boundary(name, MAX_NAME_LEN))
}

/// The empty session id and agent name of an event outside any session.
pub(crate) fn empty_name() -> Arc<str> {
    static EMPTY: OnceLock<Arc<str>> = OnceLock::new();
    Arc::clone(EMPTY.get_or_init(|| Arc::from("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_fall_on_character_boundaries() {
        assert_eq!(truncate_at_char_boundary("héllo", 2), "h");
        assert_eq!(truncate_at_char_boundary("héllo", 3), "hé");
        assert_eq!(truncate_at_char_boundary("short", 64), "short");
        let long = "é".repeat(MAX_NAME_LEN);
        assert_eq!(bounded_name(Cow::Owned(long)).len(), MAX_NAME_LEN);
        assert_eq!(shared_name(&"x".repeat(1000)).len(), MAX_NAME_LEN);
    }

    #[test]
    fn costs_and_durations_are_sane() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0] {
            assert_of_zero(sane_cost(bad));
        }
        assert!((sane_cost(0.5) - 0.5).abs() < f64::EPSILON);
        assert_eq!(millis(Duration::MAX), u64::MAX);
        assert_eq!(millis(Duration::from_micros(1500)), 1);
    }

    fn assert_of_zero(cost: f64) {
        assert!(cost == 0.0 && cost.is_sign_positive(), "{cost}");
    }
}
