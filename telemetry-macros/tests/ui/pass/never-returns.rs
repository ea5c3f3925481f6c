// `-> !`, sync and async: the only way out is a panic, which is recorded.
#![deny(warnings)]

use telemetry_core::{tracked_command, tracked_tool};

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
    assert!(std::panic::catch_unwind(|| fail("boom")).is_err());
    let _never: fn() -> ! = spin;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let result = std::panic::catch_unwind(|| runtime.block_on(fail_async()));
    assert!(result.is_err());
}
