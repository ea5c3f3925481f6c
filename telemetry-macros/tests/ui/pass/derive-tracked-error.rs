// `#[derive(TrackedError)]` on every shape of enum, in a crate that denies
// warnings and shadows the paths the expansion names.
#![deny(warnings, missing_docs)]
#![allow(dead_code, non_camel_case_types)]
//! A test crate.

mod core {}
mod std {}
mod telemetry_core {}
struct Cow;

/// Unit, tuple and struct variants, an override, a raw identifier.
#[derive(::telemetry_core::TrackedError)]
pub enum AgentError {
    /// Unit.
    RateLimited,
    /// Tuple: the text is never read.
    Refused(::std::string::String),
    /// Struct.
    Timeout {
        /// Seconds.
        after_s: u64,
    },
    /// Overridden.
    #[tracked_error(kind = "bad_input.v2")]
    BadInput(::std::string::String, u8),
    /// A raw identifier.
    r#type,
}

/// Generics, lifetimes and a where-clause.
#[derive(::telemetry_core::TrackedError)]
pub enum Wrapped<'a, T: ?Sized, const N: usize>
where
    T: ::std::fmt::Debug,
{
    /// Borrows.
    Borrowed(&'a T),
    /// An array.
    Many([u8; N]),
}

/// No variant: no value, never called.
#[derive(::telemetry_core::TrackedError)]
pub enum Never {}

fn main() {
    use ::telemetry_core::TrackedError as _;
    assert_eq!(AgentError::RateLimited.error_kind(), "RateLimited");
    assert_eq!(AgentError::Refused("SECRET".into()).error_kind(), "Refused");
    assert_eq!(AgentError::Timeout { after_s: 3 }.error_kind(), "Timeout");
    assert_eq!(AgentError::BadInput("SECRET".into(), 1).error_kind(), "bad_input.v2");
    assert_eq!(AgentError::r#type.error_kind(), "type");
    assert_eq!(Wrapped::<str, 2>::Borrowed("SECRET").error_kind(), "Borrowed");
    assert_eq!(Wrapped::<str, 2>::Many([1, 2]).error_kind(), "Many");
}
