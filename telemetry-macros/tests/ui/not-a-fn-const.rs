use telemetry_core::tracked_tool;

#[tracked_tool]
pub const LIMIT: usize = 8;

fn main() {}
