//! `#[derive(TrackedError)]`: an enum's error kind is its variant's name,
//! or the variant's `#[tracked_error(kind = "...")]`.
//!
//! Laid out like the attributes, by phase: [`parse`] reads the enum and
//! the options of each `#[tracked_error]`, [`validate`] checks the kinds,
//! [`expand`] writes the impl. Every problem is a spanned `syn::Error`, all
//! reported at once.

use crate::attr::StringOption;
use crate::validate::{bad_char, combine, NAME_CHARS};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::{Attribute, Data, DeriveInput, Error, Ident, LitStr, Result};

/// The helper attribute's name.
const ATTR: &str = "tracked_error";

/// The enum to implement `TrackedError` for: its variants' names and kinds.
struct Enum {
    input: DeriveInput,
    variants: Vec<Variant>,
}

/// One variant: its name and, when given, its `kind = "..."`.
struct Variant {
    ident: Ident,
    kind: Option<LitStr>,
}

/// Parses, checks and expands the derive's input.
pub(crate) fn derive(input: TokenStream) -> Result<TokenStream> {
    let parsed = parse(syn::parse2(input)?)?;
    let kinds = validate(&parsed.variants)?;
    Ok(expand(&parsed.input, &parsed.variants, &kinds))
}

/// Reads the enum and every `#[tracked_error(...)]` on its variants; a
/// struct, a union, or the attribute anywhere else is an error.
fn parse(input: DeriveInput) -> Result<Enum> {
    let data = match &input.data {
        Data::Enum(data) => data,
        Data::Struct(data) => {
            return Err(not_an_enum(&data.struct_token, &input.ident, "a struct"))
        }
        Data::Union(data) => return Err(not_an_enum(&data.union_token, &input.ident, "a union")),
    };
    let mut errors = Vec::new();
    for attr in helper_attrs(&input.attrs) {
        errors.push(Error::new_spanned(
            attr,
            "#[tracked_error] goes on a variant, to give it its own kind; \
             the enum's kinds are its variants' names",
        ));
    }
    let mut variants = Vec::new();
    for variant in &data.variants {
        for attr in variant
            .fields
            .iter()
            .flat_map(|field| helper_attrs(&field.attrs))
        {
            errors.push(Error::new_spanned(
                attr,
                "#[tracked_error] goes on a variant, not a field: a field is never read",
            ));
        }
        let mut kind = None;
        for attr in helper_attrs(&variant.attrs) {
            match parse_kind(attr) {
                Ok(lit) if kind.is_some() => errors.push(Error::new(
                    lit.span(),
                    "duplicate `kind`: give a variant one kind",
                )),
                Ok(lit) => kind = Some(lit),
                Err(error) => errors.push(error),
            }
        }
        variants.push(Variant {
            ident: variant.ident.clone(),
            kind,
        });
    }
    match combine(errors) {
        Some(error) => Err(error),
        None => Ok(Enum { input, variants }),
    }
}

fn helper_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|attr| attr.path().is_ident(ATTR))
}

/// `#[tracked_error(kind = "...")]`: the string literal.
fn parse_kind(attr: &Attribute) -> Result<LitStr> {
    let option = StringOption {
        attribute: ATTR,
        key: "kind",
        example: "rate_limited",
        duplicate: "duplicate `kind`: give a variant one kind",
    };
    let mut kind: Option<LitStr> = None;
    attr.parse_nested_meta(|meta| option.parse(&meta, &mut kind))?;
    kind.ok_or_else(|| {
        Error::new_spanned(
            attr,
            "expected `kind = \"...\"`, as in #[tracked_error(kind = \"rate_limited\")]",
        )
    })
}

/// Each variant's kind: its override, else its name (without `r#`). An
/// override must be non-empty and use only [`NAME_CHARS`].
fn validate(variants: &[Variant]) -> Result<Vec<String>> {
    let mut errors = Vec::new();
    let mut kinds = Vec::new();
    for variant in variants {
        let Some(lit) = &variant.kind else {
            kinds.push(variant.ident.unraw().to_string());
            continue;
        };
        let kind = lit.value();
        if kind.is_empty() {
            errors.push(Error::new(
                lit.span(),
                "the kind is empty: give a kind, or leave out the attribute to use the \
                 variant's name",
            ));
        } else if let Some(bad) = bad_char(&kind) {
            errors.push(Error::new(
                lit.span(),
                format!(
                    "the kind has the character {bad:?}, outside {NAME_CHARS}: a kind is a \
                     short fixed word such as `rate_limited`"
                ),
            ));
        }
        kinds.push(kind);
    }
    match combine(errors) {
        Some(error) => Err(error),
        None => Ok(kinds),
    }
}

/// The impl: a `match` on the variants, each giving its fixed kind. The
/// patterns are `Self::Variant { .. }`, which bind no field.
fn expand(input: &DeriveInput, variants: &[Variant], kinds: &[String]) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let arms = variants.iter().zip(kinds).map(|(variant, kind)| {
        let variant = &variant.ident;
        quote_spanned! {Span::mixed_site()=>
            Self::#variant { .. } => ::std::borrow::Cow::Borrowed(#kind),
        }
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics ::telemetry_core::TrackedError for #ident #ty_generics #where_clause {
            fn error_kind(&self) -> ::std::borrow::Cow<'static, str> {
                match *self {
                    #(#arms)*
                }
            }
        }
    }
}

/// The error for a struct or a union, spanned at its keyword and name.
fn not_an_enum(keyword: &dyn ToTokens, ident: &Ident, what: &str) -> Error {
    let mut head = keyword.to_token_stream();
    ident.to_tokens(&mut head);
    Error::new_spanned(
        head,
        format!(
            "#[derive(TrackedError)] applies to enums, not to {what}: the kind is the \
             variant's name; for {what}, implement `telemetry_core::TrackedError` by hand \
             with a fixed kind"
        ),
    )
}
