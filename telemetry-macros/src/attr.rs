//! The attribute itself: which of the two it is, and its options.
//!
//! `#[tracked_tool]` and `#[tracked_tool(name = "read_file")]` are the whole
//! grammar; anything else is a spanned error.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::{Error, Expr, ExprLit, Lit, LitStr, Result, Token};

/// Which attribute is expanding: decides the event and the messages.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// `#[tracked_command]`: a `command` event.
    Command,
    /// `#[tracked_tool]`: a `tool` event in the current session.
    Tool,
}

impl Kind {
    /// The attribute's name, for error messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Command => "tracked_command",
            Kind::Tool => "tracked_tool",
        }
    }
}

/// The options inside the attribute's parentheses.
pub(crate) struct Options {
    /// `name = "..."`: the event's name instead of the function's.
    pub(crate) name: Option<LitStr>,
}

/// Parses `name = "..."` (the only option), rejecting unknown and repeated
/// options and a value that is not a string literal. Whether the name itself
/// is acceptable is checked in `validate`.
pub(crate) fn parse_options(kind: Kind, args: TokenStream) -> Result<Options> {
    let mut name = None;
    let parser = syn::meta::parser(|meta| {
        if !meta.path.is_ident("name") {
            let option = quote::ToTokens::to_token_stream(&meta.path).to_string();
            return Err(meta.error(format!(
                "unknown option `{}`: #[{}] takes only `name = \"...\"`",
                option.replace(' ', ""),
                kind.name(),
            )));
        }
        if name.is_some() {
            return Err(meta.error("duplicate option `name`: give the name once"));
        }
        if !meta.input.peek(Token![=]) {
            return Err(meta.error("expected a value, as in `name = \"read_file\"`"));
        }
        match meta.value()?.parse::<Expr>()? {
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => {
                name = Some(lit);
                Ok(())
            }
            other => Err(Error::new_spanned(
                other,
                "expected a string literal, as in `name = \"read_file\"`",
            )),
        }
    });
    parser.parse2(args)?;
    Ok(Options { name })
}
