//! The attribute macros of [`telemetry-core`]: `#[tracked_command]` and
//! `#[tracked_tool]`. Use them through its re-exports,
//! `use telemetry_core::{tracked_command, tracked_tool};`; the generated code
//! calls `::telemetry_core::__private`, so the user crate depends on
//! `telemetry-core` under that name.
//!
//! Each attribute keeps the function's attributes, docs, visibility and
//! signature as written, and wraps its body so that every call is timed and
//! recorded with its outcome. The expansion never reads a parameter.
//!
//! The crate is laid out by phase: `attr` parses the options, `validate`
//! checks the item and the name, `expand` generates the code (with
//! `erase` for `impl Trait` in return types). Errors are `syn::Error`s,
//! turned into `compile_error!` once, here, next to the unchanged item, so
//! that a mistake in the attribute gives one error and no follow-on ones.
//!
//! [`telemetry-core`]: https://docs.rs/telemetry-core

mod attr;
mod erase;
mod expand;
mod tracked_error;
mod validate;

use attr::Kind;
use proc_macro::TokenStream;
use quote::quote;

/// Records every call of the function as a `command` event: its name (the
/// function's, or `name = "..."`), the flag names of the process's command
/// line, its duration and its outcome.
///
/// ```
/// use telemetry_core::tracked_command;
///
/// #[tracked_command(name = "run")]
/// fn run_command(model: &str) -> std::io::Result<()> {
///     let _ = model; // never recorded
///     Ok(())
/// }
/// # run_command("gpt-4").unwrap();
/// ```
///
/// The outcome is a success, unless the function returns an `Err` (of any
/// `Result`, aliases such as `io::Result<T>` included: the error kind is the
/// error type's name), panics (kind `panic`; the panic then continues
/// unchanged) or, for an `async fn`, is dropped before it completes (kind
/// `cancelled`). Works on sync and async fns, methods and trait impl methods,
/// generic and `unsafe` fns; not on a `const fn` or with `#[track_caller]`.
#[proc_macro_attribute]
pub fn tracked_command(args: TokenStream, item: TokenStream) -> TokenStream {
    tracked(Kind::Command, args, item)
}

/// Records every call of the function as a `tool` event carrying the current
/// session's id and agent (empty outside a session), and counts it in that
/// session's totals (`tool_calls`, `error_count`). The name is the
/// function's, or `name = "..."`.
///
/// ```
/// use telemetry_core::tracked_tool;
///
/// #[tracked_tool(name = "read_file")]
/// async fn read_file(path: &str) -> std::io::Result<String> {
///     let _ = path; // never recorded
///     Ok(String::new())
/// }
/// ```
///
/// Outcomes and supported shapes are those of [`macro@tracked_command`].
#[proc_macro_attribute]
pub fn tracked_tool(args: TokenStream, item: TokenStream) -> TokenStream {
    tracked(Kind::Tool, args, item)
}

/// The one place where errors become `compile_error!`, emitted next to the
/// unchanged item so that no second error follows from a missing function.
fn tracked(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    match expand::tracked(kind, args.into(), item.clone()) {
        Ok(expanded) => expanded.into(),
        Err(error) => {
            let error = error.to_compile_error();
            quote!(#error #item).into()
        }
    }
}

/// Implements `telemetry_core::TrackedError` for an enum: the error kind of
/// a value is its variant's name (`AgentError::RateLimited` →
/// `RateLimited`), or the variant's `#[tracked_error(kind = "...")]`. No
/// field is ever read. A struct or a union is a compile error.
///
/// ```
/// use telemetry_core::TrackedError;
///
/// #[derive(Debug, TrackedError)]
/// enum AgentError {
///     RateLimited { retry_after_s: u64 },
///     #[tracked_error(kind = "refused")]
///     Refused(String),
/// }
///
/// assert_eq!(AgentError::RateLimited { retry_after_s: 3 }.error_kind(), "RateLimited");
/// assert_eq!(AgentError::Refused("my secret".into()).error_kind(), "refused");
/// ```
#[proc_macro_derive(TrackedError, attributes(tracked_error))]
pub fn derive_tracked_error(input: TokenStream) -> TokenStream {
    match tracked_error::derive(input.into()) {
        Ok(expanded) => expanded.into(),
        Err(error) => error.to_compile_error().into(),
    }
}
