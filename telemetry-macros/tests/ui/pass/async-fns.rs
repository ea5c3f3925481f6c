// `async fn`: free, with `?` and early return, and a method.
#![deny(warnings)]

use telemetry_core::{tracked_command, tracked_tool};

#[tracked_tool]
async fn fetch(n: u8) -> u8 {
    tokio::task::yield_now().await;
    n
}

#[tracked_command]
async fn parse(text: &str) -> Result<u8, std::num::ParseIntError> {
    if text.is_empty() {
        return Ok(0);
    }
    let n = text.parse()?;
    Ok(fetch(n).await)
}

struct Agent {
    name: String,
}

impl Agent {
    #[tracked_tool]
    async fn name(&self) -> &str {
        tokio::task::yield_now().await;
        &self.name
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        assert_eq!(parse("7").await, Ok(7));
        assert_eq!(parse("").await, Ok(0));
        let agent = Agent {
            name: "root".into(),
        };
        assert_eq!(agent.name().await, "root");
    });
}
