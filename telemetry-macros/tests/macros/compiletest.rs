//! The trybuild UI suite: `ui/*.rs` must fail to compile with exactly the
//! reviewed `ui/*.stderr`, and `ui/pass/*.rs` must compile without a
//! warning (each denies them) and run.
//!
//! The `.stderr` files pin rustc's wording: after a toolchain update,
//! regenerate them with `TRYBUILD=overwrite cargo test -p telemetry-macros --test macros compiletest`
//! and review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
