//! What the short-run bench's two floor programs (`raw_post`,
//! `reqwest_post`) share: the command line `NAME LINE [URL]`, the line
//! printed as `agent version` prints it, and the one-record body posted.

use std::process::ExitCode;

/// The body each floor posts: one command record, as the agent's.
pub const BODY: &str = r#"{"records":[{"event":"command","event_timestamp":1795620628495,"source":"agent","properties":{"action":"version","args":[],"is_success":true,"duration_ms":0}}]}"#;

/// Prints the line given first; then, when a URL follows, posts [`BODY`]
/// to it with `post`. `name` prefixes the error said on stderr.
pub fn run<E: std::fmt::Display>(name: &str, post: impl FnOnce(&str) -> Result<(), E>) -> ExitCode {
    let mut args = std::env::args().skip(1);
    let line = args.next().unwrap_or_default();
    println!("{line}");
    let Some(url) = args.next() else {
        return ExitCode::SUCCESS;
    };
    match post(&url) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{name}: {error}");
            ExitCode::FAILURE
        }
    }
}
