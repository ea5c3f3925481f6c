use telemetry_core::{tracked_command, tracked_tool, Telemetry};

fn main() -> std::io::Result<()> {
    // Off when opted out, or with nowhere to send; TELEMETRY_ENDPOINT overrides the URL.
    let telemetry = Telemetry::builder("my-agent", env!("CARGO_PKG_VERSION"))
        .endpoint("https://collector.example/v1/events")
        .flags(["--verbose"]) // only declared flag names are ever recorded
        .build();
    telemetry_core::set_global(telemetry); // the macros record through the global client
    run("summarise the README")
}

#[tracked_command] // `command` event: "run", declared flags, duration, success or error kind
fn run(prompt: &str) -> std::io::Result<()> {
    let session = telemetry_core::start_session("root"); // `session` start event
    session.scope(|| {
        let text = read_file("README.md")?; // `tool` event, counted in the session
        telemetry_core::record_token_usage("gpt-4o", 1200, 300, 0.006); // `token` event
        println!("{prompt}: read {} bytes", text.len());
        Ok(())
    }) // `session` is dropped here: its end event carries the totals
}

#[tracked_tool(name = "read_file")]
fn read_file(path: &str) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}
