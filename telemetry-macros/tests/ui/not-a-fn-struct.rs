use telemetry_core::tracked_tool;

#[tracked_tool]
pub struct Config {
    pub verbose: bool,
}

fn main() {}
