// The generated locals cannot clash with the user's names, and parameters
// of any pattern or receiver form work: the body is moved into a closure
// or async block as written, and the expansion never names a parameter.
#![deny(warnings)]

use std::pin::Pin;
use telemetry_core::{tracked_command, tracked_tool, MemorySink, Telemetry};

#[tracked_tool]
fn same_names(call: u8, ret: u8, typed: u8, _call: u8) -> u8 {
    let finish = call + ret + typed + _call;
    finish
}

#[tracked_tool]
async fn same_names_async(call: u8, ret: u8) -> u8 {
    let typed = call + ret;
    typed
}

struct Point {
    x: i32,
    y: i32,
}

#[tracked_tool]
fn patterns((a, b): (u8, u8), Point { x, .. }: Point, _: u8) -> i32 {
    i32::from(a) + i32::from(b) + x
}

#[tracked_tool]
fn mutable(mut items: Vec<u8>, mut count: usize) -> (Vec<u8>, usize) {
    items.push(1);
    count += 1;
    (items, count)
}

#[tracked_command]
fn with_local_macro(x: u8) -> u8 {
    macro_rules! twice {
        ($e:expr) => {
            $e * 2
        };
    }
    fn helper(y: u8) -> u8 {
        y + 1
    }
    helper(twice!(x))
}

struct Node {
    value: u8,
}

impl Node {
    #[tracked_tool]
    fn boxed(self: Box<Self>) -> u8 {
        self.value
    }

    #[tracked_tool]
    fn pinned(self: Pin<&mut Self>) -> &mut u8 {
        &mut self.get_mut().value
    }
}

fn main() {
    let sink = MemorySink::new();
    let telemetry = Telemetry::builder("app", "1.0")
        .sink(sink.clone())
        .notice(false)
        .env(|_| None)
        .build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    telemetry.scope(|| {
        assert_eq!(same_names(1, 2, 3, 4), 10);
        assert_eq!(runtime.block_on(same_names_async(1, 2)), 3);
        assert_eq!(patterns((1, 2), Point { x: 3, y: 0 }, 9), 6);
        assert_eq!(mutable(vec![], 0), (vec![1], 1));
        assert_eq!(with_local_macro(2), 5);
        assert_eq!(Box::new(Node { value: 7 }).boxed(), 7);
        let mut node = Node { value: 1 };
        *Pin::new(&mut node).pinned() += 1;
        assert_eq!(node.value, 2);
    });
    let _ = Point { x: 0, y: 0 }.y;
    assert_eq!(sink.records().len(), 7);
}
