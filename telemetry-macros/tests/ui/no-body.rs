use telemetry_core::tracked_tool;

pub trait Tool {
    #[tracked_tool]
    fn call(&self) -> u32;
}

fn main() {}
