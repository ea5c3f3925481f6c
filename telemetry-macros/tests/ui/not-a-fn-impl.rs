use telemetry_core::tracked_tool;

pub struct Agent;

#[tracked_tool]
impl Agent {
    pub fn run(&self) {}
}

fn main() {}
