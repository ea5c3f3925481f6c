//! `reqwest_post`: the second floor that `benches/short_run.rs` measures
//! inline delivery against: reqwest's own request, without the toolkit. It
//! prints the line `agent version` prints and, given a URL, makes one POST
//! of the same one-record body the way the toolkit's HTTP sink drives
//! reqwest: its async client (HTTP/1.1 only, no proxy, no redirects,
//! `TCP_NODELAY`) built on first use, on a current-thread tokio runtime with
//! I/O and timers, the request bounded by a timeout and its answer read,
//! the runtime and client left for the process's exit (as the sink leaves
//! the main thread's).
//! Inline's cost minus this program's is the toolkit's own share.
//!
//! ```text
//! reqwest_post LINE [URL]
//! ```

#[path = "floor/program.rs"]
mod program;

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    program::run("reqwest_post", post)
}

fn post(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()?;
    let url = reqwest::Url::parse(url)?;
    let sent = runtime.block_on(async {
        let response = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::USER_AGENT, "reqwest_post")
            .timeout(Duration::from_secs(2))
            .body(program::BODY)
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        if status.is_success() {
            Ok(())
        } else {
            Err("the collector did not answer 2xx".into())
        }
    });
    // As the sink leaves the main thread's runtime and client: never torn
    // down, the kernel closes the connection at exit.
    std::mem::forget(client);
    std::mem::forget(runtime);
    sent
}
