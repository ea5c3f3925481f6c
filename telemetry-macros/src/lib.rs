//! Attribute macros for `telemetry-core`; use them through its re-exports.
use proc_macro::TokenStream;

/// Placeholder until the expansion lands: returns the item unchanged.
#[proc_macro_attribute]
pub fn tracked_command(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Placeholder until the expansion lands: returns the item unchanged.
#[proc_macro_attribute]
pub fn tracked_tool(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
