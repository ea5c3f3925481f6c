//! Generates the tracked function: the original attributes, visibility and
//! signature around a body that starts a call, runs the original body, and
//! finishes the call with the outcome of the returned value.
//!
//! Generated code names only absolute paths, and its locals are
//! `Span::mixed_site()` identifiers, which the user's body cannot see or
//! shadow. The user's tokens keep their spans, so a type error in the body
//! points at the user's line. No generated token names a parameter.

use crate::attr::{self, Kind};
use crate::erase::impl_trait_to_infer;
use crate::validate;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{AttrStyle, Block, Ident, ItemFn, Result, ReturnType, Type};

/// Parses and checks the attribute and its item, then expands them.
pub(crate) fn tracked(kind: Kind, args: TokenStream, item: TokenStream) -> Result<TokenStream> {
    let options = attr::parse_options(kind, args);
    let function = validate::tracked_fn(kind, item);
    let (options, function) = match (options, function) {
        (Ok(options), Ok(function)) => (options, function),
        (Err(mut error), Err(other)) => {
            error.combine(other);
            return Err(error);
        }
        (Err(error), Ok(_)) | (Ok(_), Err(error)) => return Err(error),
    };
    let name = validate::event_name(kind, &options, &function.sig.ident)?;
    Ok(expand(kind, &name, function))
}

/// The tracked function. In outline, for a sync fn:
///
/// ```text
/// let call = if active() { start_tool("name") } else { None };
/// let ret = call_once(move || -> Ret { /* the original body */ });
/// if let Some(call) = call { call.finish((&Returned(&ret)).outcome()); }
/// ret
/// ```
///
/// An `async fn` awaits `async move { /* body */ }` instead of calling a
/// closure, and a `-> !` fn runs its body after the `let call`, leaving
/// the guard to record the panic that is its only way out.
fn expand(kind: Kind, name: &str, function: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    let (outer, inner): (Vec<_>, Vec<_>) = attrs
        .iter()
        .partition(|attr| matches!(attr.style, AttrStyle::Outer));

    let start = start_call(kind, name);
    if sig.asyncness.is_none() {
        if let Some(boxed) = BoxedAsync::find(&sig.output, &block) {
            let body = boxed.expand(&start);
            let mut tokens = quote!(#(#outer)* #vis #sig);
            block.brace_token.surround(&mut tokens, |tokens| {
                tokens.extend(quote!(#(#inner)*));
                tokens.extend(body);
            });
            return tokens;
        }
    }
    let body = match &sig.output {
        ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => never_body(&start, &block),
        output => {
            let ret = annotation(output, &sig.ident);
            let run = if sig.asyncness.is_some() {
                async_body(&ret, &block)
            } else {
                sync_body(&ret, &block)
            };
            let finish = finish_call();
            quote_spanned! {Span::mixed_site()=>
                let call = #start;
                #run
                #finish
            }
        }
    };

    let mut tokens = quote!(#(#outer)* #vis #sig);
    block.brace_token.surround(&mut tokens, |tokens| {
        tokens.extend(quote!(#(#inner)*));
        tokens.extend(body);
    });
    tokens
}

/// An `async fn` that another attribute has already rewritten the way
/// rmcp's `#[tool]` and `async-trait` do: a fn returning
/// `Pin<Box<dyn Future<Output = T> ..>>` whose whole body is
/// `Box::pin(async move { .. })`. Tracked like the `async fn` it was (from
/// its first poll to its completion, with `T`'s outcome) rather than as a
/// sync fn that only builds a future.
struct BoxedAsync<'a> {
    /// The `Box::pin` path, as the user's tokens wrote it.
    pin: &'a syn::Expr,
    /// The `async move` block's body.
    body: &'a Block,
    /// The future's `Output`.
    output: &'a Type,
}

impl<'a> BoxedAsync<'a> {
    fn find(output: &'a ReturnType, block: &'a Block) -> Option<BoxedAsync<'a>> {
        let ReturnType::Type(_, ty) = output else {
            return None;
        };
        let output = pinned_future_output(ty)?;
        let [syn::Stmt::Expr(syn::Expr::Call(call), None)] = block.stmts.as_slice() else {
            return None;
        };
        let syn::Expr::Path(func) = &*call.func else {
            return None;
        };
        let names: Vec<_> = func
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if !names.ends_with(&["Box".to_owned(), "pin".to_owned()]) || call.args.len() != 1 {
            return None;
        }
        match call.args.first() {
            Some(syn::Expr::Async(async_block)) if async_block.capture.is_some() => {
                Some(BoxedAsync {
                    pin: &call.func,
                    body: &async_block.block,
                    output,
                })
            }
            _ => None,
        }
    }

    /// `Box::pin(async move { let call = ..; let ret = async move { body }.await; finish })`.
    fn expand(&self, start: &TokenStream) -> TokenStream {
        let pin = self.pin;
        let run = async_body(self.output, self.body);
        let finish = finish_call();
        let inner = quote_spanned! {Span::mixed_site()=>
            let call = #start;
            #run
            #finish
        };
        quote_spanned! {Span::mixed_site()=>
            #pin(async move { #inner })
        }
    }
}

/// `T` of `Pin<Box<dyn Future<Output = T> + ..>>` (any path to `Pin`,
/// `Box` and `Future`).
fn pinned_future_output(ty: &Type) -> Option<&Type> {
    let pinned = only_type_argument(ty, "Pin")?;
    let Type::TraitObject(object) = only_type_argument(pinned, "Box")? else {
        return None;
    };
    object.bounds.iter().find_map(|bound| {
        let syn::TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let future = bound.path.segments.last()?;
        let syn::PathArguments::AngleBracketed(args) = &future.arguments else {
            return None;
        };
        if future.ident != "Future" {
            return None;
        }
        args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
            _ => None,
        })
    })
}

/// The one type argument of a path type whose last segment is `name`.
fn only_type_argument<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    if last.ident != name {
        return None;
    }
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [syn::GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}

/// `Some(call)` when telemetry is on; when it is off, one relaxed load and
/// `None`: no clock read, no allocation.
fn start_call(kind: Kind, name: &str) -> TokenStream {
    let start = match kind {
        Kind::Command => quote!(start_command),
        Kind::Tool => quote!(start_tool),
    };
    quote_spanned! {Span::mixed_site()=>
        if ::telemetry_core::__private::active() {
            ::telemetry_core::__private::#start(#name)
        } else {
            ::core::option::Option::None
        }
    }
}

/// Runs a sync body in a `move` closure, so that `return` and `?` end the
/// closure rather than the function. `call_once` makes the closure
/// `FnOnce`, so it may return borrows of what it captured (`&mut self`).
///
/// The closure's head is located at the declared return type, where rustc
/// points when the body's `?` does not fit it.
fn sync_body(ret: &Type, block: &Block) -> TokenStream {
    let head = quote_spanned!(Span::mixed_site().located_at(ret.span())=> move || -> #ret);
    let body = user_block(block, TokenStream::new());
    quote_spanned! {Span::mixed_site()=>
        let ret = ::telemetry_core::__private::call_once(#head #body);
    }
}

/// Awaits an async body as an `async move` block. Its first statement, an
/// unreachable `return` of the declared type, fixes the block's output type
/// before the body is checked, so that `?` and `.into()` infer as they do
/// in the original function.
///
/// That statement is located at the declared return type, where rustc's
/// "return type inferred to be ... here" should point.
fn async_body(ret: &Type, block: &Block) -> TokenStream {
    let at_ret = Span::mixed_site().located_at(ret.span());
    let typed = Ident::new("typed", at_ret);
    let typed_return = quote_spanned! {at_ret=>
        #[allow(unreachable_code)]
        if let ::core::option::Option::Some(#typed) = ::core::option::Option::None::<#ret> {
            return #typed;
        }
    };
    let body = user_block(block, typed_return);
    quote_spanned! {Span::mixed_site()=>
        let ret = async move #body.await;
    }
}

/// A `-> !` function can only end by panicking (or by exiting the process,
/// which records nothing): the guard's `Drop` records the panic.
fn never_body(start: &TokenStream, block: &Block) -> TokenStream {
    let stmts = &block.stmts;
    quote_spanned! {Span::mixed_site()=>
        let _call = #start;
        #(#stmts)*
    }
}

/// Records the outcome of `ret`, then returns it unchanged. The two traits
/// pick, by autoref, `ResultOutcome` for any `Result` (aliases included) and
/// `PlainOutcome` for every other type; one of the imports is always unused.
fn finish_call() -> TokenStream {
    quote_spanned! {Span::mixed_site()=>
        if let ::core::option::Option::Some(call) = call {
            #[allow(unused_imports)]
            use ::telemetry_core::__private::{PlainOutcome as _, ResultOutcome as _};
            #[allow(clippy::needless_borrow)]
            call.finish((&::telemetry_core::__private::Returned(&ret)).outcome());
        }
        ret
    }
}

/// The user's statements in a block that keeps the user's braces (and so
/// their spans), after `prefix`.
fn user_block(block: &Block, prefix: TokenStream) -> TokenStream {
    let mut tokens = TokenStream::new();
    block.brace_token.surround(&mut tokens, |tokens| {
        tokens.extend(prefix);
        for stmt in &block.stmts {
            stmt.to_tokens(tokens);
        }
    });
    tokens
}

/// The declared return type with `impl Trait` erased to `_`; `()` (spanned
/// at the function's name, where rustc points for a missing return type)
/// when none is declared.
fn annotation(output: &ReturnType, ident: &Ident) -> Type {
    match output {
        ReturnType::Default => syn::parse_quote_spanned!(ident.span()=> ()),
        ReturnType::Type(_, ty) => impl_trait_to_infer(ty),
    }
}
