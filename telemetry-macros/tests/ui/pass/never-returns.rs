// `-> !`, sync and async: the only way out is a panic, which is recorded.
#![deny(warnings)]

use telemetry_core::{tracked_command, tracked_tool, MemorySink, Telemetry};

#[tracked_command]
fn fail(message: &str) -> ! {
    panic!("{message}")
}

#[tracked_tool]
fn spin() -> ! {
    loop {
        std::thread::park();
    }
}

#[tracked_tool]
async fn fail_async() -> ! {
    tokio::task::yield_now().await;
    panic!("async")
}

fn main() {
    std::panic::set_hook(Box::new(|_| {}));
    let sink = MemorySink::new();
    let telemetry = Telemetry::builder("app", "1.0")
        .sink(sink.clone())
        .notice(false)
        .env(|_| None)
        .build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    telemetry.scope(|| {
        assert!(std::panic::catch_unwind(|| fail("boom")).is_err());
        let result = std::panic::catch_unwind(|| runtime.block_on(fail_async()));
        assert!(result.is_err());
    });
    let _never: fn() -> ! = spin;
    let records = sink.records();
    assert_eq!(records.len(), 2);
    for record in &records {
        let record = serde_json::to_value(record).unwrap();
        assert_eq!(record["properties"]["error"], "panic");
    }
}
