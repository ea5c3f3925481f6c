// The expansion names only absolute paths: a crate with its own `core`,
// `std`, `telemetry_core`, `Option`, `Some`, `None`, `Result`, `Ok` and `Err`
// still compiles.
#![deny(warnings)]
#![allow(dead_code, non_camel_case_types)]

mod core {}
mod std {}

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

fn main() {
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
}
