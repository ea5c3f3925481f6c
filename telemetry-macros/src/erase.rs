//! `impl Trait` cannot be written in a closure's return annotation or in a
//! turbofish, so the copy of the return type the expansion annotates with
//! has each `impl Trait` replaced by `_` and left to inference.

use syn::visit_mut::{self, VisitMut};
use syn::{Type, TypeInfer};

/// The return type with every `impl Trait` in it (also nested, as in
/// `Result<impl Display, E>`) replaced by `_`.
pub(crate) fn impl_trait_to_infer(ty: &Type) -> Type {
    let mut ty = ty.clone();
    ImplTraitToInfer.visit_type_mut(&mut ty);
    ty
}

struct ImplTraitToInfer;

impl VisitMut for ImplTraitToInfer {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(impl_trait) = ty {
            *ty = Type::Infer(TypeInfer {
                underscore_token: syn::Token![_](impl_trait.impl_token.span),
            });
        } else {
            visit_mut::visit_type_mut(self, ty);
        }
    }
}
