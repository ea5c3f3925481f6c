// Bodies whose types come from the declared return type: `.collect()`,
// `.into()`, `Default::default()`, `?` conversions, `.parse()`.
#![deny(warnings)]

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

fn main() {
    assert_eq!(squares(3), [1, 4, 9]);
    assert_eq!(index(&["ab"])["ab"], 2);
    assert_eq!(label("x"), "x");
    assert!(empty().is_empty());
    assert_eq!(number(" 5 ").unwrap(), 5);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(collect_async(2)).unwrap(), [0, 1]);
}
