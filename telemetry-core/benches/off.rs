//! Target 1: with telemetry off, a tracked function costs at most 1 ns more
//! per call than the identical plain function.
//!
//! Telemetry is turned off the way a user turns it off
//! (`TELEMETRY_ENABLED=false`); no enabled client ever exists in this
//! process, so a tracked call is one relaxed atomic load and a branch.
//!
//! Compare the medians within one run: `outlined` (each call a real call,
//! as for any function of some size) is the target's figure; `inlined`
//! shows the cost where the optimiser would otherwise fold a tiny plain
//! function into the loop, which the tracked one, like an instrumented one,
//! then no longer is; `tracing_instrument` is tracing's `#[instrument]`
//! with no subscriber on the same function, for scale.
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

/// Never inlined: a real call each time. The target's figure.
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

    /// The same function under tracing's `#[instrument]`, no subscriber.
    #[divan::bench]
    fn tracing_instrument() -> u64 {
        instrumented(black_box(7))
    }

    #[inline(never)]
    #[tracing::instrument(level = "info", skip_all)]
    fn instrumented(x: u64) -> u64 {
        plain(x)
    }
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

    /// The same function under tracing's `#[instrument]`, no subscriber.
    #[divan::bench]
    fn tracing_instrument() -> u64 {
        instrumented(black_box(7))
    }

    #[tracing::instrument(level = "info", skip_all)]
    fn instrumented(x: u64) -> u64 {
        plain(x)
    }
}
