//! README.md's quick start is `examples/quickstart.rs`, word for word, so
//! that the code a new user copies is code that compiles (cargo builds the
//! examples before it runs the tests).

#[test]
fn the_readme_quick_start_is_the_quickstart_example() {
    let readme = include_str!("../../README.md");
    let example = include_str!("../../examples/quickstart.rs");
    let block = format!("```rust\n{example}```\n");
    assert!(
        readme.contains(&block),
        "README.md's quick start differs from examples/quickstart.rs"
    );
}
