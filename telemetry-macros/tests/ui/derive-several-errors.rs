// Every mistake is reported at once, each at its tokens.
use telemetry_core::TrackedError;

#[derive(TrackedError)]
#[tracked_error(kind = "agent")]
pub enum AgentError {
    #[tracked_error(name = "limited")]
    RateLimited,
    #[tracked_error(kind = 429)]
    TooMany,
    #[tracked_error(kind = "a")]
    #[tracked_error(kind = "b")]
    Twice,
    #[tracked_error(kind)]
    NoValue,
    #[tracked_error]
    Bare,
    Refused(#[tracked_error(kind = "text")] String),
}

fn main() {}
