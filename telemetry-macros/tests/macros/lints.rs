//! The expansion adds no warning to code that denies rustc's warnings and
//! clippy's `all` and `pedantic` groups: `cargo test` checks the former,
//! `cargo clippy --all-targets` the latter. Every supported shape is here.
//!
//! The lint levels are this module's, which is public (`pub mod lints` in
//! `main.rs`) so that its items are reachable as a library's public items
//! would be: `missing_docs`, `unreachable_pub`, `must_use_candidate` and
//! the `# Errors` docs apply to them.

#![deny(warnings, clippy::all, clippy::pedantic)]
#![deny(
    missing_docs,
    rust_2018_idioms,
    unused_qualifications,
    unsafe_op_in_unsafe_fn,
    unreachable_pub
)]

use std::fmt::Display;
use std::io;
use telemetry_core::{tracked_command, tracked_tool};

/// A unit fn.
#[tracked_command]
pub fn unit() {
    std::hint::black_box(1);
}

/// Returns a value.
#[tracked_command]
#[must_use]
pub fn value(x: u32) -> u32 {
    x + 1
}

/// An `io::Result` with `?` and an early return.
///
/// # Errors
/// When `text` is not a number.
#[tracked_tool(name = "parse")]
pub fn parse(text: &str) -> io::Result<u32> {
    if text.is_empty() {
        return Ok(0);
    }
    let n = text.parse::<u32>().map_err(io::Error::other)?;
    Ok(n)
}

/// Inference from the return type.
#[tracked_tool]
#[must_use]
pub fn collect(bytes: &[u8]) -> Vec<u16> {
    bytes.iter().map(|&b| u16::from(b)).collect()
}

/// `.into()` into the return type.
#[tracked_tool]
#[must_use]
pub fn into_string(text: &str) -> String {
    text.into()
}

/// `impl Trait` in argument and return position.
#[tracked_tool]
pub fn describe(value: impl Display) -> impl Display {
    format!("<{value}>")
}

/// `Result<impl Trait, E>`.
///
/// # Errors
/// When `fail` is set.
#[tracked_tool]
pub fn maybe(fail: bool) -> Result<impl Display, io::Error> {
    if fail {
        Err(io::Error::other("failed"))
    } else {
        Ok(1)
    }
}

/// Generics, lifetimes and a where-clause.
#[tracked_tool]
pub fn longest<'a, T>(items: &'a [T]) -> Option<&'a T>
where
    T: Ord,
{
    items.iter().max()
}

/// An `unsafe fn`.
///
/// # Safety
/// `ptr` must be valid for reads.
#[tracked_tool]
#[must_use]
pub unsafe fn read(ptr: *const u8) -> u8 {
    // SAFETY: the caller promises that `ptr` is valid.
    unsafe { *ptr }
}

/// Recursion.
#[tracked_tool]
#[must_use]
pub fn factorial(n: u64) -> u64 {
    if n <= 1 {
        1
    } else {
        n * factorial(n - 1)
    }
}

/// Never returns.
///
/// # Panics
/// Always.
#[tracked_command]
pub fn fail() -> ! {
    panic!("failed")
}

/// A struct with methods of every receiver.
#[derive(Debug, Default)]
pub struct Counter {
    count: u32,
    log: Vec<String>,
}

impl Counter {
    /// `&self`.
    #[tracked_tool]
    #[must_use]
    pub fn count(&self) -> u32 {
        self.count
    }

    /// `&mut self` returning a borrow of self.
    #[tracked_tool]
    pub fn log_mut(&mut self) -> &mut Vec<String> {
        self.count += 1;
        &mut self.log
    }

    /// `self` by value.
    #[tracked_tool]
    #[must_use]
    pub fn into_log(self) -> Vec<String> {
        self.log
    }

    /// An async method.
    #[tracked_tool]
    pub async fn bump(&mut self) -> u32 {
        tokio::task::yield_now().await;
        self.count += 1;
        self.count
    }

    /// An async method returning a borrow of self.
    #[tracked_tool]
    pub async fn first(&self) -> Option<&String> {
        tokio::task::yield_now().await;
        self.log.first()
    }
}

/// A trait with sync and native async methods.
pub trait Tool {
    /// Sync.
    ///
    /// # Errors
    /// Never here.
    fn call(&self, input: &str) -> Result<String, io::Error>;

    /// Async.
    fn call_async(&self, input: &str) -> impl std::future::Future<Output = usize> + Send;
}

impl Tool for Counter {
    #[tracked_tool]
    fn call(&self, input: &str) -> Result<String, io::Error> {
        Ok(format!("{input}{}", self.count))
    }

    #[tracked_tool]
    async fn call_async(&self, input: &str) -> usize {
        tokio::task::yield_now().await;
        input.len() + self.log.len()
    }
}

/// An async free fn with `?`, `.into()` and an early return.
///
/// # Errors
/// When `text` is not a number.
#[tracked_command(name = "async-parse")]
pub async fn parse_async(text: &str) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
    tokio::task::yield_now().await;
    if text.is_empty() {
        return Err("empty".into());
    }
    Ok(text.parse::<u64>()?)
}

#[test]
fn every_shape_compiles_without_a_warning() {
    unit();
    assert_eq!(value(1), 2);
    assert_eq!(parse("").ok(), Some(0));
    assert_eq!(collect(&[1]), [1]);
    assert_eq!(into_string("a"), "a");
    assert_eq!(describe(1).to_string(), "<1>");
    assert!(maybe(true).is_err());
    assert_eq!(longest(&[1, 3, 2]), Some(&3));
    // SAFETY: a valid reference.
    assert_eq!(unsafe { read(&7) }, 7);
    assert_eq!(factorial(5), 120);
    assert!(std::panic::catch_unwind(|| fail()).is_err());
    let mut counter = Counter::default();
    counter.log_mut().push("a".to_owned());
    assert_eq!(counter.count(), 1);
    assert_eq!(counter.call("x").ok().as_deref(), Some("x1"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        assert_eq!(counter.bump().await, 2);
        assert_eq!(counter.first().await.map(String::as_str), Some("a"));
        assert_eq!(counter.call_async("ab").await, 3);
        assert_eq!(parse_async("5").await.ok(), Some(5));
    });
    assert_eq!(counter.into_log(), ["a"]);
}
