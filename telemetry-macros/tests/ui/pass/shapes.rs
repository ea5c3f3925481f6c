// Every function shape the attributes accept compiles without a warning (the
// crate denies them) and runs as written: one module a shape, in one crate,
// as trybuild builds each pass file as a crate of its own.
#![deny(warnings)]

use telemetry_core::{MemorySink, Telemetry};

/// An enabled client recording into the returned sink: no environment, no
/// notice.
fn client() -> (Telemetry, MemorySink) {
    let sink = MemorySink::new();
    let telemetry = Telemetry::builder("app", "1.0")
        .sink(sink.clone())
        .notice(false)
        .env(|_| None)
        .build();
    (telemetry, sink)
}

/// A current-thread runtime for the async shapes.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn main() {
    free_fns::run();
    early_return::run();
    async_fns::run();
    methods::run();
    trait_methods::run();
    generics::run();
    inference::run();
    unsafe_fns::run();
    recursion::run();
    hygiene_and_patterns::run();
    attributes_kept::run();
    never_returns::run();
}

/// Sync free fns: unit, value, `Result` and `Result` aliases.
mod free_fns {
    use super::client;
    use telemetry_core::{tracked_command, tracked_tool};

    type AppResult<T> = Result<T, std::fmt::Error>;

    #[tracked_command]
    fn unit() {}

    #[tracked_command(name = "answer")]
    fn value() -> u32 {
        42
    }

    #[tracked_tool]
    fn io(fail: bool) -> std::io::Result<()> {
        if fail {
            Err(std::io::Error::other("no"))
        } else {
            Ok(())
        }
    }

    #[tracked_tool]
    fn alias() -> AppResult<u8> {
        Err(std::fmt::Error)
    }

    pub fn run() {
        let (telemetry, sink) = client();
        telemetry.scope(|| {
            unit();
            assert_eq!(value(), 42);
            assert!(io(true).is_err());
            assert!(alias().is_err());
        });
        assert_eq!(sink.records().len(), 4);
    }
}

/// `?` (on a `Result`, converting the error, and on an `Option`) and early
/// `return` end the body, not the function's bookkeeping.
mod early_return {
    use super::client;
    use std::error::Error;
    use telemetry_core::tracked_tool;

    #[tracked_tool]
    fn parse(text: &str) -> Result<u32, Box<dyn Error>> {
        if text == "none" {
            return Ok(0);
        }
        let n: u32 = text.parse()?;
        Ok(n * 2)
    }

    #[tracked_tool]
    fn find(items: &[u32], wanted: u32) -> Option<usize> {
        for (i, item) in items.iter().enumerate() {
            if *item == wanted {
                return Some(i);
            }
        }
        let last = items.len().checked_sub(1)?;
        Some(last)
    }

    pub fn run() {
        let (telemetry, sink) = client();
        telemetry.scope(|| {
            assert_eq!(parse("none").unwrap(), 0);
            assert!(parse("x").is_err());
            assert_eq!(parse("2").unwrap(), 4);
            assert_eq!(find(&[1, 2], 2), Some(1));
            assert_eq!(find(&[], 2), None);
        });
        assert_eq!(sink.records().len(), 5);
    }
}

/// `async fn`: free, with `?` and early return, and a method.
mod async_fns {
    use super::runtime;
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

    pub fn run() {
        runtime().block_on(async {
            assert_eq!(parse("7").await, Ok(7));
            assert_eq!(parse("").await, Ok(0));
            let agent = Agent {
                name: "root".into(),
            };
            assert_eq!(agent.name().await, "root");
        });
    }
}

/// Methods returning a borrow of self: from `&self` inside an `Option`,
/// and from `&mut self` tied by one lifetime to another argument. (Every
/// receiver, by value included, is in the `lints` and `shapes_*` modules of
/// the runtime tests.)
mod methods {
    use telemetry_core::tracked_tool;

    struct Buffer {
        lines: Vec<String>,
    }

    impl Buffer {
        #[tracked_tool]
        fn first(&self) -> Option<&String> {
            self.lines.first()
        }

        #[tracked_tool]
        fn last_mut<'a>(&'a mut self, fallback: &'a mut String) -> &'a mut String {
            self.lines.last_mut().unwrap_or(fallback)
        }
    }

    pub fn run() {
        let mut buffer = Buffer { lines: Vec::new() };
        let mut fallback = String::new();
        buffer.last_mut(&mut fallback).push('x');
        assert_eq!(fallback, "x");
        buffer.lines.push("a".into());
        buffer.last_mut(&mut fallback).push('b');
        assert_eq!(buffer.first().map(String::as_str), Some("ab"));
    }
}

/// Trait impl methods, sync and native `async fn` in traits, and a provided
/// (default) method.
mod trait_methods {
    use super::runtime;
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

    pub fn run() {
        let runtime = runtime();
        assert_eq!(Echo.call("x").unwrap(), "x");
        assert_eq!(Echo.describe(), "a tool");
        assert_eq!(runtime.block_on(assert_send(Echo.call_async("abc"))), 3);
        assert_eq!(runtime.block_on(Echo.plain_async()), 1);
    }
}

/// Generics, where-clauses, lifetimes, const generics, and `impl Trait` in
/// argument and return position (also inside `Result`).
mod generics {
    use std::fmt::{Debug, Display};
    use telemetry_core::tracked_tool;

    #[tracked_tool]
    fn largest<'a, T>(items: &'a [T]) -> Option<&'a T>
    where
        T: Ord + Debug,
    {
        items.iter().max()
    }

    #[tracked_tool]
    fn longest<'a>(a: &'a str, b: &'a str) -> &'a str {
        if a.len() >= b.len() {
            a
        } else {
            b
        }
    }

    #[tracked_tool]
    fn first_word(text: &str) -> &str {
        text.split(' ').next().unwrap_or_default()
    }

    #[tracked_tool]
    fn sum<const N: usize>(values: [u32; N]) -> u32 {
        values.iter().sum()
    }

    #[tracked_tool]
    fn show(value: impl Display) -> impl Display {
        format!("[{value}]")
    }

    #[tracked_tool]
    fn evens(limit: u32) -> impl Iterator<Item = u32> {
        (0..limit).filter(|n| n % 2 == 0)
    }

    #[tracked_tool]
    fn parse(text: &str) -> Result<impl Display + '_, std::num::ParseIntError> {
        let _: u32 = text.parse()?;
        Ok(text)
    }

    #[tracked_tool]
    fn pair<A: Clone, B>(a: &A, b: B) -> (A, B) {
        (a.clone(), b)
    }

    struct Wrapper<T>(T);

    impl<T: Clone> Wrapper<T> {
        #[tracked_tool]
        fn get(&self) -> T {
            self.0.clone()
        }

        #[tracked_tool]
        fn map<U, F>(self, f: F) -> Wrapper<U>
        where
            F: FnOnce(T) -> U,
        {
            Wrapper(f(self.0))
        }
    }

    pub fn run() {
        assert_eq!(largest(&[1, 3, 2]), Some(&3));
        assert_eq!(longest("ab", "a"), "ab");
        assert_eq!(first_word("a b"), "a");
        assert_eq!(sum([1, 2, 3]), 6);
        assert_eq!(show(1).to_string(), "[1]");
        assert_eq!(evens(5).count(), 3);
        assert_eq!(parse("12").unwrap().to_string(), "12");
        assert_eq!(pair(&1, "b"), (1, "b"));
        assert_eq!(Wrapper(2).map(|n| n * 2).get(), 4);
    }
}

/// Bodies whose types come from the declared return type: `.collect()`,
/// `.into()`, `Default::default()`, `?` conversions, `.parse()`.
mod inference {
    use super::runtime;
    use std::collections::BTreeMap;
    use telemetry_core::{tracked_command, tracked_tool};

    #[tracked_tool]
    fn squares(n: u32) -> Vec<u32> {
        (1..=n).map(|i| i * i).collect()
    }

    #[tracked_tool]
    fn index(words: &[&str]) -> BTreeMap<String, usize> {
        words.iter().map(|w| ((*w).into(), w.len())).collect()
    }

    #[tracked_tool]
    fn label(text: &str) -> String {
        text.into()
    }

    #[tracked_tool]
    fn empty() -> Vec<String> {
        Default::default()
    }

    #[tracked_command]
    fn number(text: &str) -> Result<u64, Box<dyn std::error::Error>> {
        Ok(text.trim().parse()?)
    }

    #[tracked_command]
    async fn collect_async(n: u32) -> Result<Vec<u32>, String> {
        if n == 0 {
            return Err("zero".into());
        }
        Ok((0..n).collect())
    }

    pub fn run() {
        assert_eq!(squares(3), [1, 4, 9]);
        assert_eq!(index(&["ab"])["ab"], 2);
        assert_eq!(label("x"), "x");
        assert!(empty().is_empty());
        assert_eq!(number(" 5 ").unwrap(), 5);
        assert_eq!(runtime().block_on(collect_async(2)).unwrap(), [0, 1]);
    }
}

/// `unsafe fn`, sync and async: the body keeps its unsafe context.
mod unsafe_fns {
    use super::runtime;
    use telemetry_core::tracked_tool;

    #[tracked_tool]
    unsafe fn read(ptr: *const u32) -> u32 {
        *ptr
    }

    #[tracked_tool]
    async unsafe fn read_async(ptr: *const u32) -> u32 {
        *ptr
    }

    #[tracked_tool]
    pub(crate) unsafe extern "C" fn read_c(ptr: *const u32) -> u32 {
        *ptr
    }

    pub fn run() {
        let value = 7;
        assert_eq!(unsafe { read(&value) }, 7);
        assert_eq!(unsafe { read_c(&value) }, 7);
        assert_eq!(runtime().block_on(unsafe { read_async(&value) }), 7);
    }
}

/// Recursion, sync and async (boxed, as async recursion requires).
mod recursion {
    use super::{client, runtime};
    use std::future::Future;
    use std::pin::Pin;
    use telemetry_core::tracked_tool;

    #[tracked_tool]
    fn fib(n: u64) -> u64 {
        if n < 2 {
            n
        } else {
            fib(n - 1) + fib(n - 2)
        }
    }

    #[tracked_tool]
    async fn depth(n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        let inner: Pin<Box<dyn Future<Output = u32>>> = Box::pin(depth(n - 1));
        inner.await + 1
    }

    pub fn run() {
        let (telemetry, sink) = client();
        telemetry.scope(|| assert_eq!(fib(5), 5));
        assert_eq!(sink.take().len(), 15);
        let depth = runtime().block_on(async { telemetry.scope(|| depth(3)).await });
        assert_eq!(depth, 3);
    }
}

/// The generated locals cannot clash with the user's names, and parameters
/// of any pattern or receiver form work: the body is moved into a closure
/// or async block as written, and the expansion never names a parameter.
mod hygiene_and_patterns {
    use super::{client, runtime};
    use std::pin::Pin;
    use telemetry_core::{tracked_command, tracked_tool};

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

    pub fn run() {
        let (telemetry, sink) = client();
        let runtime = runtime();
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
}

/// Attributes, docs, visibility, inner attributes and the signature stay as
/// written: `#[must_use]` still warns, `#[deprecated]` still applies,
/// `#[cfg]` still removes the function, a raw identifier gives the name
/// `type`.
mod attributes_kept {
    mod tools {
        use telemetry_core::{tracked_command, tracked_tool};

        /// Reads a file; the doc comment is kept.
        #[tracked_tool]
        #[must_use = "the contents are the point"]
        #[inline]
        pub fn read() -> String {
            #![allow(clippy::useless_conversion)]
            String::from("contents")
        }

        #[tracked_tool]
        #[cfg(any())]
        pub fn removed() -> u8 {
            compile_error!("cfg'd out before expansion")
        }

        #[tracked_command]
        #[deprecated = "use read"]
        pub(crate) fn old() -> u8 {
            1
        }

        #[tracked_command]
        pub fn r#type() -> &'static str {
            "type"
        }

        #[tracked_tool]
        #[allow(unused_variables)]
        pub fn ignored(value: u8) {}
    }

    #[allow(deprecated)]
    fn old() -> u8 {
        tools::old()
    }

    pub fn run() {
        assert_eq!(tools::read(), "contents");
        assert_eq!(old(), 1);
        assert_eq!(tools::r#type(), "type");
        tools::ignored(1);
    }
}

/// `-> !`, sync and async: the only way out is a panic, which is recorded.
mod never_returns {
    use super::{client, runtime};
    use std::panic;
    use telemetry_core::{tracked_command, tracked_tool};

    #[tracked_command]
    fn fail(message: &str) -> ! {
        panic!("{message}")
    }

    #[tracked_tool]
    fn spin() -> ! {
        loop {
            std::thread::park();
        }
    }

    #[tracked_tool]
    async fn fail_async() -> ! {
        tokio::task::yield_now().await;
        panic!("async")
    }

    pub fn run() {
        let (telemetry, sink) = client();
        let runtime = runtime();
        let hook = panic::take_hook();
        panic::set_hook(Box::new(|_| {}));
        telemetry.scope(|| {
            assert!(panic::catch_unwind(|| fail("boom")).is_err());
            let result = panic::catch_unwind(|| runtime.block_on(fail_async()));
            assert!(result.is_err());
        });
        panic::set_hook(hook);
        let _never: fn() -> ! = spin;
        let records = sink.records();
        assert_eq!(records.len(), 2);
        for record in &records {
            let record = serde_json::to_value(record).unwrap();
            assert_eq!(record["properties"]["error"], "panic");
        }
    }
}
