//! `telemetry-collector` as a process on 127.0.0.1: what it stores, what
//! its views answer, how it holds up; the dashboard page (rendered for a
//! fixed data set, served, and in a real browser) and the terminal report.
//! One module per behaviour; one test binary for the crate.

mod access;
mod agent_runs;
mod browser;
mod crash;
mod dashboard_page;
mod erasure;
mod forward;
mod generator;
mod harness;
mod limits;
mod model;
mod otelcol;
mod page_cells;
mod page_served;
mod privacy;
mod report_command;
mod report_text;
mod retention;
mod seed;
mod shutdown;
mod snapshot;
mod views;
