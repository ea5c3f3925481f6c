//! Checks that the item can be tracked and that the event name is sendable.
//! Every problem is a `syn::Error` spanned at the offending tokens.

use crate::attr::{Kind, Options};
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{Error, Ident, Item, ItemFn, Result, TraitItemFn};

/// The characters an event name may hold: it is sent as it is, so it stays
/// a plain identifier such as `read_file`, `db.query` or `git:status`.
pub(crate) const NAME_CHARS: &str = "[A-Za-z0-9_.:-]";

/// Parses the item and checks that it is a function the expansion can wrap:
/// not another kind of item, not a `const fn`, not `#[track_caller]`.
pub(crate) fn tracked_fn(kind: Kind, item: TokenStream) -> Result<ItemFn> {
    let function = match syn::parse2::<Item>(item)? {
        Item::Fn(function) => function,
        other => return Err(not_a_fn(kind, &other)),
    };
    let mut errors = Vec::new();
    if let Some(constness) = &function.sig.constness {
        errors.push(Error::new_spanned(
            constness,
            format!(
                "#[{}] cannot be applied to a `const fn`: a tracked call reads the clock \
                 and records an event at run time",
                kind.name(),
            ),
        ));
    }
    for attr in &function.attrs {
        if attr.path().is_ident("track_caller") {
            errors.push(Error::new_spanned(
                attr,
                format!(
                    "#[{}] cannot be combined with `#[track_caller]`: the body runs inside a \
                     closure or async block, which does not see the caller's location",
                    kind.name(),
                ),
            ));
        }
    }
    match combine(errors) {
        Some(error) => Err(error),
        None => Ok(function),
    }
}

/// The event name: the `name` option, else the function's name (without
/// `r#`). Either must be non-empty and use only [`NAME_CHARS`].
pub(crate) fn event_name(kind: Kind, options: &Options, ident: &Ident) -> Result<String> {
    let Some(lit) = &options.name else {
        let name = ident.unraw().to_string();
        return match bad_char(&name) {
            None => Ok(name),
            Some(bad) => Err(Error::new(
                ident.span(),
                format!(
                    "the function's name `{name}` has the character {bad:?}, outside \
                     {NAME_CHARS}; give the event a name: #[{}(name = \"...\")]",
                    kind.name(),
                ),
            )),
        };
    };
    let name = lit.value();
    if name.is_empty() {
        return Err(Error::new(
            lit.span(),
            "the name is empty: give a name, or leave out `name` to use the function's name",
        ));
    }
    match bad_char(&name) {
        None => Ok(name),
        Some(bad) => Err(Error::new(
            lit.span(),
            format!("the name has the character {bad:?}, outside {NAME_CHARS}"),
        )),
    }
}

/// The first character outside [`NAME_CHARS`], if any.
pub(crate) fn bad_char(name: &str) -> Option<char> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')))
}

/// The error for an item that is not a function with a body, spanned at
/// its keyword and name so that it points at what the attribute is on.
fn not_a_fn(kind: Kind, item: &Item) -> Error {
    let (what, head): (&str, TokenStream) = match item {
        Item::Struct(item) => (", not to a struct", head(&item.struct_token, &item.ident)),
        Item::Enum(item) => (", not to an enum", head(&item.enum_token, &item.ident)),
        Item::Union(item) => (", not to a union", head(&item.union_token, &item.ident)),
        Item::Trait(item) => (
            ", not to a trait: put it on the methods of each impl",
            head(&item.trait_token, &item.ident),
        ),
        Item::Impl(item) => (
            ", not to an impl block: put it on each method to track",
            head(&item.impl_token, &item.self_ty),
        ),
        Item::Const(item) => (", not to a const", head(&item.const_token, &item.ident)),
        Item::Static(item) => (", not to a static", head(&item.static_token, &item.ident)),
        Item::Mod(item) => (", not to a module", head(&item.mod_token, &item.ident)),
        Item::Type(item) => (", not to a type alias", head(&item.type_token, &item.ident)),
        Item::Verbatim(tokens) => match syn::parse2::<TraitItemFn>(tokens.clone()) {
            Ok(method) => (
                " with a body: put it on the method in each impl",
                head(&method.sig.fn_token, &method.sig.ident),
            ),
            Err(_) => ("", tokens.clone()),
        },
        other => ("", other.to_token_stream()),
    };
    Error::new_spanned(
        head,
        format!("#[{}] applies to functions{what}", kind.name()),
    )
}

fn head(keyword: &dyn ToTokens, name: &dyn ToTokens) -> TokenStream {
    let mut tokens = keyword.to_token_stream();
    name.to_tokens(&mut tokens);
    tokens
}

/// All the errors as one, so that the user sees every problem at once.
pub(crate) fn combine(errors: Vec<Error>) -> Option<Error> {
    errors.into_iter().reduce(|mut all, error| {
        all.combine(error);
        all
    })
}
