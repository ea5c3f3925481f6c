//! The macros' runtime tests, one module per behaviour, in one test
//! executable (`cargo test -p telemetry-macros --test macros [module::]`):
//! what a tracked function records, and that it behaves exactly as without
//! the attribute. `compiletest` is the trybuild UI suite (`ui/`); `lints`
//! holds every shape under `deny(warnings, clippy::pedantic, ...)`.

mod common;
mod compiletest;
mod error_kinds;
pub mod lints;
mod outcomes;
mod sessions;
mod shapes_async;
mod shapes_sync;
mod telemetry_off;
