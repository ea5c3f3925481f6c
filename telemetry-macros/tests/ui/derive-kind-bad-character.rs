use telemetry_core::TrackedError;

#[derive(TrackedError)]
pub enum AgentError {
    #[tracked_error(kind = "rate limited")]
    RateLimited,
}

fn main() {}
