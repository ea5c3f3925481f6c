use telemetry_core::tracked_command;

#[tracked_command]
pub fn café() {}

fn main() {
    café();
}
