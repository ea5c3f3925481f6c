//! The library's integration tests, one module per behaviour, in one test
//! executable (`cargo test -p telemetry-core --test core [module::]`).
//!
//! Everything runs in process against the public API, over real HTTP to
//! loopback collectors; the helpers come from `telemetry-test-support`,
//! and those only this binary's modules share from `common`.
//! The few tests that observe the whole process (its threads, the global
//! client, a warning printed once per process) run alone in a fresh process
//! of this executable (`telemetry_test_support::process::run_alone`).

mod background_mode;
mod bad_input;
mod ci_policy;
mod common;
mod config_files;
mod controls;
mod debug_mode;
mod decision;
mod declared_flags;
mod delivery;
mod delivery_faults;
mod dropped_records;
mod failure_causes;
mod first_run;
mod global_client;
mod hosted_backends;
mod levels;
mod load;
mod machine_policy;
mod many_sessions;
mod notice_version;
mod opt_out;
mod otlp_export;
mod privacy;
mod properties;
mod sampling;
mod schema;
mod sessions;
mod tool_rollup;
mod transparency;
mod when_off;
mod where_data_goes;
mod wire_format;
