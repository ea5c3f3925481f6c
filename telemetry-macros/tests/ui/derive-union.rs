use telemetry_core::TrackedError;

#[derive(TrackedError)]
pub union Failed {
    pub code: u32,
    pub byte: u8,
}

fn main() {}
