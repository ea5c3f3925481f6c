//! End-to-end tests: the `agent` example (`examples/agent.rs`) run as a
//! separate process against a loopback collector, one module per
//! behaviour, in one test executable (`cargo test --test e2e [module::]`).
//! How the agent is built and run: `telemetry_test_support::agent`; the
//! loopback collector it sends to is tested in `loopback_collector`.
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
mod hosted_backends;
mod loopback_collector;
mod opt_out;
mod otlp_interop;
mod policy_and_levels;
mod privacy;
mod readme;
mod records;
// Resource limits (`setrlimit`) and `ru_maxrss` as glibc Linux gives them.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod spool_limits;
mod transparency;
