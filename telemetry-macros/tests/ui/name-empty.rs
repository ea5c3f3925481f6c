use telemetry_core::tracked_tool;

#[tracked_tool(name = "")]
pub fn read_file() {}

fn main() {
    read_file();
}
