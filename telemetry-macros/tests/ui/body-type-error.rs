use telemetry_core::{tracked_command, tracked_tool};

#[tracked_tool]
pub fn count(items: &[u8]) -> u32 {
    items.len()
}

#[tracked_command]
pub fn parse(text: &str) -> Result<u8, std::num::ParseIntError> {
    let value: Option<u8> = text.parse().ok();
    Ok(value?)
}

#[tracked_tool]
pub async fn load() -> String {
    "text"
}

#[tracked_command]
pub fn run() {
    5
}

pub struct StoreError;

#[tracked_tool]
pub async fn store() -> Result<u8, StoreError> {
    let n: u8 = "1".parse()?;
    Ok(n)
}

fn main() {}
