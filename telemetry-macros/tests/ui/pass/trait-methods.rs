// Trait impl methods, sync and native `async fn` in traits, and a provided
// (default) method.
#![deny(warnings)]

use std::future::Future;
use telemetry_core::tracked_tool;

trait Tool {
    fn call(&self, input: &str) -> Result<String, std::io::Error>;

    fn call_async(&self, input: &str) -> impl Future<Output = usize> + Send;

    async fn plain_async(&self) -> u8;

    #[tracked_tool]
    fn describe(&self) -> String {
        String::from("a tool")
    }
}

struct Echo;

impl Tool for Echo {
    #[tracked_tool]
    fn call(&self, input: &str) -> Result<String, std::io::Error> {
        Ok(input.to_owned())
    }

    #[tracked_tool(name = "echo_async")]
    async fn call_async(&self, input: &str) -> usize {
        tokio::task::yield_now().await;
        input.len()
    }

    #[tracked_tool]
    async fn plain_async(&self) -> u8 {
        1
    }
}

fn assert_send<T: Send>(value: T) -> T {
    value
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(Echo.call("x").unwrap(), "x");
    assert_eq!(Echo.describe(), "a tool");
    assert_eq!(runtime.block_on(assert_send(Echo.call_async("abc"))), 3);
    assert_eq!(runtime.block_on(Echo.plain_async()), 1);
}
