//! End-to-end tests: the `agent` example (`examples/agent.rs`) run as a
//! separate process against a loopback collector, one module per
//! behaviour, in one test executable (`cargo test --test e2e [module::]`).
//! How the agent is built and run: `telemetry_test_support::agent`.
//! The library's own tests live in `telemetry-core/tests/core/`.

mod agent_loops;
mod broken_output;
mod canaries;
mod controls;
mod decision;
mod deferred;
mod delivery;
mod delivery_modes;
mod flag_canaries;
mod opt_out;
mod otlp_interop;
mod privacy;
mod readme;
mod records;
