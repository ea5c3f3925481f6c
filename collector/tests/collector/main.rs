//! `telemetry-collector` as a process on 127.0.0.1: what it stores, what
//! its views answer, and how it holds up. One module per behaviour.

mod access;
mod agent_runs;
mod crash;
mod erasure;
mod forward;
mod generator;
mod harness;
mod limits;
mod model;
mod otelcol;
mod privacy;
mod retention;
mod shutdown;
mod views;
