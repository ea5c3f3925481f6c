use telemetry_core::tracked_tool;

#[tracked_tool(label = "x")]
#[track_caller]
pub const fn limit() -> usize {
    8
}

fn main() {
    let _ = limit();
}
