// Generics, where-clauses, lifetimes, const generics, and `impl Trait` in
// argument and return position (also inside `Result`).
#![deny(warnings)]

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

fn main() {
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
