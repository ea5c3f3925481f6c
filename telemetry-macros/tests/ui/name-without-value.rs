use telemetry_core::tracked_command;

#[tracked_command(name)]
pub fn run() {}

fn main() {
    run();
}
