use telemetry_core::tracked_command;

#[tracked_command]
pub const fn limit() -> usize {
    8
}

fn main() {
    let _ = limit();
}
