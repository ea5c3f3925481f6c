use telemetry_core::tracked_tool;

#[tracked_tool(nmae = "read_file")]
pub fn read_file() {}

fn main() {
    read_file();
}
