//! An MCP server over stdio with two tracked tools, the example of
//! `docs/mcp.md`.
//!
//! - `add` (sync) sums two numbers;
//! - `lookup` (async) answers the capital of a few countries, and fails with
//!   JSON-RPC "invalid params" for any other.
//!
//! Each client connection is one telemetry session (`TrackedServer`): both
//! tools' `tool` records carry its id, and its end record is sent when the
//! client disconnects. Nothing but JSON-RPC is written to stdout: the
//! first-run notice and the debug lines go to stderr.
//!
//! Telemetry goes to `TELEMETRY_ENDPOINT` (or `MCP_CALCULATOR_TELEMETRY_ENDPOINT`);
//! without one it is off. The usual controls apply (`DO_NOT_TRACK=1`,
//! `MCP_CALCULATOR_TELEMETRY_ENABLED=false`).

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::ErrorData;
use rmcp::{schemars, tool, tool_router, transport::stdio, ServiceExt};
use telemetry_core::mcp::TrackedServer;
use telemetry_core::{tracked_tool, Telemetry};

/// The arguments of `add`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct AddArgs {
    /// The first number.
    a: i64,
    /// The second number.
    b: i64,
}

/// The arguments of `lookup`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct LookupArgs {
    /// A country's name, in English.
    country: String,
}

/// The server: its tools are its methods.
#[derive(Debug, Clone, Default)]
struct Calculator;

#[tool_router(server_handler)]
impl Calculator {
    /// Adds two numbers (saturating).
    ///
    /// `#[tracked_tool]` above rmcp's `#[tool]`: it sees the fn as written.
    #[tracked_tool]
    #[tool(description = "Add two numbers")]
    fn add(&self, Parameters(AddArgs { a, b }): Parameters<AddArgs>) -> String {
        a.saturating_add(b).to_string()
    }

    /// The capital of a country; "invalid params" for one it does not know.
    ///
    /// `#[tracked_tool]` below rmcp's `#[tool]`: it then sees the fn that
    /// `#[tool]` made of the `async fn` (one returning a boxed `async move`
    /// block) and tracks it as the `async fn` it was, from its first poll to
    /// its completion.
    #[tool(description = "The capital of a country")]
    #[tracked_tool]
    async fn lookup(
        &self,
        Parameters(LookupArgs { country }): Parameters<LookupArgs>,
    ) -> Result<String, ErrorData> {
        tokio::task::yield_now().await;
        match country.as_str() {
            "France" => Ok("Paris".to_owned()),
            "Japan" => Ok("Tokyo".to_owned()),
            "Kenya" => Ok("Nairobi".to_owned()),
            // The message names what the user typed: it is never sent, only
            // the code's kind (`InvalidParams`).
            _ => Err(ErrorData::invalid_params(
                format!("unknown country: {country}"),
                None,
            )),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let debug = std::env::args().any(|arg| arg == "--debug");
    let telemetry = Telemetry::builder("mcp-calculator", env!("CARGO_PKG_VERSION"))
        .debug(debug)
        .build();
    let running = TrackedServer::new(telemetry, Calculator)
        .serve(stdio())
        .await?;
    // Returns once the client has closed stdin and the last request is
    // done; rmcp then drops the server, which ends the session.
    running.waiting().await?;
    Ok(())
}
