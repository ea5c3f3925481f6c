//! When telemetry is off, a tracked function costs one relaxed atomic load:
//! nothing is recorded and nothing is allocated. Each test runs alone in a
//! process of its own, where no enabled client is ever built, so the
//! process-wide switch stays off. (The allocation counter is the test
//! executable's global allocator; it counts per thread.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use telemetry_core::{tracked_command, tracked_tool, MemorySink, Telemetry};
use telemetry_test_support::process::run_alone;

/// Counts the allocations made by the current thread.
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// count is a thread-local that never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[tracked_tool]
fn add(a: u64, b: u64) -> Result<u64, std::num::TryFromIntError> {
    Ok(a + b)
}

#[tracked_command]
fn nothing() {}

#[test]
fn with_no_client_a_tracked_call_allocates_nothing_and_returns_unchanged() {
    run_alone(
        "telemetry_off::with_no_client_a_tracked_call_allocates_nothing_and_returns_unchanged",
        with_no_client_a_tracked_call_allocates_nothing_and_returns_unchanged_alone,
    );
}

fn with_no_client_a_tracked_call_allocates_nothing_and_returns_unchanged_alone() {
    assert_eq!(allocations_in(|| drop(vec![1_u8])), 1, "the counter counts");
    assert!(telemetry_core::current().is_none());
    assert!(!telemetry_core::__private::active());
    let mut sum = None;
    let allocations = allocations_in(|| {
        sum = Some(add(2, 3));
        nothing();
    });
    assert_eq!(sum, Some(Ok(5)));
    assert_eq!(allocations, 0);
}

#[test]
fn an_opted_out_client_records_nothing() {
    run_alone(
        "telemetry_off::an_opted_out_client_records_nothing",
        an_opted_out_client_records_nothing_alone,
    );
}

fn an_opted_out_client_records_nothing_alone() {
    let sink = MemorySink::new();
    let telemetry = Telemetry::builder("app", "1.0")
        .sink(sink.clone())
        .notice(false)
        .env(|name| (name == "DO_NOT_TRACK").then(|| "1".into()))
        .build();
    assert!(!telemetry.is_enabled());
    let mut sum = None;
    let allocations = telemetry.scope(|| allocations_in(|| sum = Some(add(1, 1))));
    assert_eq!(sum, Some(Ok(2)));
    assert_eq!(allocations, 0);
    assert!(sink.records().is_empty());
}
