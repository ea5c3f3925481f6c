use telemetry_core::TrackedError;

#[derive(TrackedError)]
pub enum AgentError {
    #[tracked_error(kind = "")]
    RateLimited,
}

fn main() {}
