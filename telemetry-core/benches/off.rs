//! Target 1: with telemetry off, a tracked function costs at most 1 ns more
//! per call than the identical plain function.
//!
//! Telemetry is turned off the way a user turns it off
//! (`TELEMETRY_ENABLED=false`); no enabled client ever exists in this
//! process, so a tracked call is one relaxed atomic load and a branch.
//!
//! `cargo bench -p telemetry-core --bench off`

mod support;

use divan::black_box;
use support::{plain, plain_outlined, tracked, tracked_outlined};
use telemetry_core::Telemetry;

fn main() {
    let telemetry = Telemetry::builder("bench", "1.0.0")
        .endpoint("http://127.0.0.1:9/v1/events")
        .env_vars([("TELEMETRY_ENABLED", "false")])
        .build();
    assert!(!telemetry.is_enabled());
    telemetry_core::set_global(telemetry);
    divan::main();
}

/// Inlinable functions, called in a tight loop.
mod inlined {
    use super::*;

    #[divan::bench]
    fn plain_fn() -> u64 {
        plain(black_box(7))
    }

    #[divan::bench]
    fn tracked_fn() -> u64 {
        tracked(black_box(7))
    }
}

/// The same pair behind `#[inline(never)]`: a real call each time.
mod outlined {
    use super::*;

    #[divan::bench]
    fn plain_fn() -> u64 {
        plain_outlined(black_box(7))
    }

    #[divan::bench]
    fn tracked_fn() -> u64 {
        tracked_outlined(black_box(7))
    }
}
