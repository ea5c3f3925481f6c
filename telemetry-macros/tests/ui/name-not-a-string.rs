use telemetry_core::tracked_command;

#[tracked_command(name = 42)]
pub fn run() {}

fn main() {
    run();
}
