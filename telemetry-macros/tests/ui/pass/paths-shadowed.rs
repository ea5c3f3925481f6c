//! The expansions name only absolute paths: a crate with its own `core`,
//! `std`, `telemetry`, `telemetry_core`, `Cow`, `Option`, `Some`, `None`,
//! `Result`, `Ok` and `Err`, that denies warnings and missing docs, still
//! compiles both attributes and `#[derive(TrackedError)]` on every shape of
//! enum.
#![deny(warnings, missing_docs)]
#![allow(dead_code, non_camel_case_types)]

mod core {}
mod std {}

struct Cow;
struct Option;
struct Some;
struct None;
struct Ok;
struct Err;
type Result = ();

mod telemetry {}
mod telemetry_core {}

#[::telemetry_core::tracked_tool]
fn plain() -> u8 {
    1
}

#[::telemetry_core::tracked_command]
fn fallible(fail: bool) -> ::std::result::Result<u8, ::std::fmt::Error> {
    if fail {
        ::std::result::Result::Err(::std::fmt::Error)
    } else {
        ::std::result::Result::Ok(2)
    }
}

#[::telemetry_core::tracked_tool]
async fn later() -> u8 {
    3
}

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

    let sink = ::telemetry_core::MemorySink::new();
    let telemetry = ::telemetry_core::Telemetry::builder("app", "1.0")
        .sink(::core::clone::Clone::clone(&sink))
        .notice(false)
        .env(|_| ::core::option::Option::None)
        .build();
    let runtime = ::tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    telemetry.scope(|| {
        assert_eq!(plain(), 1);
        assert!(fallible(true).is_err());
        assert_eq!(runtime.block_on(later()), 3);
    });
    assert_eq!(sink.records().len(), 3);

    assert_eq!(AgentError::RateLimited.error_kind(), "RateLimited");
    assert_eq!(AgentError::Refused("SECRET".into()).error_kind(), "Refused");
    assert_eq!(AgentError::Timeout { after_s: 3 }.error_kind(), "Timeout");
    assert_eq!(AgentError::BadInput("SECRET".into(), 1).error_kind(), "bad_input.v2");
    assert_eq!(AgentError::r#type.error_kind(), "type");
    assert_eq!(Wrapped::<str, 2>::Borrowed("SECRET").error_kind(), "Borrowed");
    assert_eq!(Wrapped::<str, 2>::Many([1, 2]).error_kind(), "Many");
}
