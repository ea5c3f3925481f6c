// Sync free fns: unit, value, `Result` and `Result` aliases.
#![deny(warnings)]

use telemetry_core::{tracked_command, tracked_tool, MemorySink, Telemetry};

type AppResult<T> = Result<T, std::fmt::Error>;

#[tracked_command]
fn unit() {}

#[tracked_command(name = "answer")]
fn value() -> u32 {
    42
}

#[tracked_tool]
fn io(fail: bool) -> std::io::Result<()> {
    if fail {
        Err(std::io::Error::other("no"))
    } else {
        Ok(())
    }
}

#[tracked_tool]
fn alias() -> AppResult<u8> {
    Err(std::fmt::Error)
}

fn main() {
    let sink = MemorySink::new();
    let telemetry = Telemetry::builder("app", "1.0")
        .sink(sink.clone())
        .notice(false)
        .env(|_| None)
        .build();
    telemetry.scope(|| {
        unit();
        assert_eq!(value(), 42);
        assert!(io(true).is_err());
        assert!(alias().is_err());
    });
    assert_eq!(sink.records().len(), 4);
}
