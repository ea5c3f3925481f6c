// A tracked async `main` under `#[tokio::main]`, with the attributes in
// either order; and returns of trait objects with elided lifetimes.
#![deny(warnings)]

use std::fmt::Display;
use telemetry_core::{tracked_command, tracked_tool};

struct Config {
    name: String,
}

impl Config {
    #[tracked_tool]
    fn name(&self) -> &dyn Display {
        &self.name
    }

    #[tracked_tool]
    fn boxed(&self) -> Box<dyn Display + '_> {
        Box::new(&self.name)
    }

    #[tracked_tool]
    async fn name_async(&self) -> &dyn Display {
        &self.name
    }
}

#[tracked_command]
#[tokio::main(flavor = "current_thread")]
async fn inner_main() -> Result<(), std::io::Error> {
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
#[tracked_command]
async fn main() {
    let config = Config {
        name: "agent".to_owned(),
    };
    assert_eq!(config.name().to_string(), "agent");
    assert_eq!(config.boxed().to_string(), "agent");
    assert_eq!(config.name_async().await.to_string(), "agent");
    std::thread::spawn(|| inner_main().unwrap()).join().unwrap();
}
