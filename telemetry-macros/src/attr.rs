//! The attribute itself: which of the two it is, and its options.
//!
//! `#[tracked_tool]` and `#[tracked_tool(name = "read_file")]` are the whole
//! grammar; anything else is a spanned error. [`StringOption`] reads such a
//! `key = "..."` option, here and in `#[tracked_error(kind = "...")]`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
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
    let option = StringOption {
        attribute: kind.name(),
        key: "name",
        example: "read_file",
        duplicate: "duplicate option `name`: give the name once",
    };
    let mut name = None;
    syn::meta::parser(|meta| option.parse(&meta, &mut name)).parse2(args)?;
    Ok(Options { name })
}

/// The one option an attribute takes, `key = "..."`, and how its errors
/// name it: the attributes and `#[tracked_error]` word them alike.
pub(crate) struct StringOption {
    /// The attribute, without `#[]`: `tracked_tool`.
    pub(crate) attribute: &'static str,
    /// The option's name: `name`.
    pub(crate) key: &'static str,
    /// A value to show in the messages: `read_file`.
    pub(crate) example: &'static str,
    /// The message for the option given twice.
    pub(crate) duplicate: &'static str,
}

impl StringOption {
    /// Reads one option of the attribute into `value`: an unknown option, a
    /// second one, a missing value or one that is not a string literal is a
    /// spanned error.
    pub(crate) fn parse(
        &self,
        meta: &ParseNestedMeta<'_>,
        value: &mut Option<LitStr>,
    ) -> Result<()> {
        let key = self.key;
        if !meta.path.is_ident(key) {
            let option = meta.path.to_token_stream().to_string().replace(' ', "");
            return Err(meta.error(format!(
                "unknown option `{option}`: #[{}] takes only `{key} = \"...\"`",
                self.attribute,
            )));
        }
        if value.is_some() {
            return Err(meta.error(self.duplicate));
        }
        let example = format!("`{key} = \"{}\"`", self.example);
        if !meta.input.peek(Token![=]) {
            return Err(meta.error(format!("expected a value, as in {example}")));
        }
        match meta.value()?.parse::<Expr>()? {
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => {
                *value = Some(lit);
                Ok(())
            }
            other => Err(Error::new_spanned(
                other,
                format!("expected a string literal, as in {example}"),
            )),
        }
    }
}
