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
    /// Puts the outer deadline back, also when `send` panics.
    struct Restore(Option<Instant>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = DEADLINE.try_with(|cell| cell.set(self.0));
        }
    }
    let _restore = Restore(DEADLINE.with(|cell| cell.replace(deadline)));
    send()
}

/// What is left of the caller's deadline, when one is set on this thread.
pub(super) fn left() -> Option<Duration> {
    DEADLINE
        .with(Cell::get)
        .map(|deadline| deadline.saturating_duration_since(Instant::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_holds_inside_only_and_survives_a_panic() {
        assert_eq!(left(), None);
        let soon = Instant::now() + Duration::from_secs(60);
        let inside = within(Some(soon), left);
        assert!(inside.is_some_and(|left| left <= Duration::from_secs(60)));
        assert_eq!(left(), None);
        let panicked = std::panic::catch_unwind(|| within(Some(soon), || panic!("a sink's bug")));
        assert!(panicked.is_err());
        assert_eq!(left(), None, "put back after the panic");
    }
}
