use telemetry_core::TrackedError;

#[derive(TrackedError)]
pub struct Failed {
    pub message: String,
}

fn main() {}
