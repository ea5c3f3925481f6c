//! The caller's deadline: a flush that sends on its own thread (background
//! delivery before its sender thread runs) must be done by the end of its
//! exit budget, which may come before the request's own timeout. Every
//! request made on this thread inside [`within`] ends by then; one cut
//! short by it is the caller's limit, not the collector's failure, so it
//! neither stops delivery nor is remembered as a back-off.

use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Runs `send` with every request it makes on this thread ending by
/// `deadline` at the latest (`None`: no limit but the sink's own).
pub(crate) fn within<T>(deadline: Option<Instant>, send: impl FnOnce() -> T) -> T {
    let outer = DEADLINE.with(|cell| cell.replace(deadline));
    let result = send();
    DEADLINE.with(|cell| cell.set(outer));
    result
}

/// What is left of the caller's deadline, when one is set on this thread.
pub(super) fn left() -> Option<Duration> {
    DEADLINE
        .with(Cell::get)
        .map(|deadline| deadline.saturating_duration_since(Instant::now()))
}
