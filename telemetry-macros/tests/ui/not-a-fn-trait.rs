use telemetry_core::tracked_command;

#[tracked_command]
pub trait Command {
    fn run(&self);
}

fn main() {}
