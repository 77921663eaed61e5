//! What a cached function's signature allows, and how each argument enters the key.
//!
//! Rules: arguments whose name starts with `_` (and `_` patterns) are left out of the key; a
//! destructuring pattern is renamed in the signature and destructured inside the body, and
//! hashed whole under its text; a receiver (`&self`, …) is left out unless it is given a hasher,
//! `hash(self = |s: &Self| …)`, but the receiver's type name is always part of a method's key.
//! Generic, `async`, `const` and variadic functions, `impl Trait` arguments and returns are
//! rejected: a cache must name the one type it stores.

use crate::options::CacheOptions;
use crate::CacheKind;
use proc_macro2::Span;
use quote::{format_ident, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, FnArg, Ident, ItemFn, Pat, ReturnType, Type};

/// One argument of the cached function.
pub struct Arg {
    /// What the key calls it: the name, or a pattern's text.
    pub name: String,
    /// How the generated code refers to its value.
    pub binding: Ident,
    pub ty: Type,
    /// A pattern destructured inside the body (its value arrives as `binding`).
    pub pattern: Option<Pat>,
    pub hashed: bool,
    pub hasher: Option<Expr>,
    pub span: Span,
}

/// The checked signature.
pub struct Analysis {
    pub args: Vec<Arg>,
    /// `Some` for methods; the receiver's hasher if one was given.
    pub receiver: Option<Option<Expr>>,
    /// The type the cache stores (the declared return type, `()` if none).
    pub output: Type,
}

pub fn analyze(kind: CacheKind, item: &ItemFn, options: &CacheOptions) -> syn::Result<Analysis> {
    let sig = &item.sig;
    if let Some(token) = &sig.asyncness {
        return Err(syn::Error::new(
            token.span,
            "an async fn can't be cached yet: cache a plain fn and call it from async code",
        ));
    }
    if let Some(token) = &sig.constness {
        return Err(syn::Error::new(
            token.span,
            "a const fn can't be cached: the cache lives at run time",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new_spanned(
            variadic,
            "a variadic fn can't be cached",
        ));
    }
    if let Some(param) = sig
        .generics
        .params
        .iter()
        .find(|p| !matches!(p, syn::GenericParam::Lifetime(_)))
    {
        return Err(syn::Error::new_spanned(
            param,
            "a generic fn can't be cached: its cache must name the one type it stores; write a fn for each concrete type",
        ));
    }

    let output = match &sig.output {
        ReturnType::Default if kind == CacheKind::Resource => return Err(syn::Error::new_spanned(
            &sig.ident,
            "#[cache_resource] needs a return type: it caches and shares what the function returns",
        )),
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    if let Some(span) = find(&output, |ty| matches!(ty, Type::ImplTrait(_))) {
        return Err(syn::Error::new(
            span,
            "a cached fn can't return `impl Trait`: the cache must name the type it stores",
        ));
    }
    if let Type::Never(never) = &output {
        return Err(syn::Error::new_spanned(
            never,
            "a fn that never returns has nothing to cache",
        ));
    }

    let mut receiver = None;
    let mut args = Vec::new();
    for (index, input) in sig.inputs.iter().enumerate() {
        match input {
            FnArg::Receiver(_) => receiver = Some(options.hasher("self").cloned()),
            FnArg::Typed(typed) => args.push(argument(index, &typed.pat, &typed.ty, options)?),
        }
    }
    if receiver.is_some() {
        if let Some(span) = find(&output, is_self) {
            return Err(syn::Error::new(
                span,
                "a cached method can't name `Self` in its return type: write the type's name",
            ));
        }
    }
    check_hashers(options, &args, receiver.is_some())?;
    Ok(Analysis {
        args,
        receiver,
        output,
    })
}

fn argument(index: usize, pat: &Pat, ty: &Type, options: &CacheOptions) -> syn::Result<Arg> {
    if let Some(span) = find(ty, |ty| matches!(ty, Type::ImplTrait(_))) {
        return Err(syn::Error::new(
            span,
            "an `impl Trait` argument makes the fn generic, which can't be cached: take a concrete type",
        ));
    }
    let span = pat.span();
    let (name, binding, pattern, hashed) = match pat {
        Pat::Ident(ident) if ident.subpat.is_none() => {
            let name = ident.ident.to_string();
            let hashed = !name.starts_with('_');
            (name, ident.ident.clone(), None, hashed)
        }
        Pat::Wild(_) => (
            "_".to_string(),
            format_ident!("__cellar_arg{}", index),
            None,
            false,
        ),
        other => {
            let text = other.to_token_stream().to_string();
            (
                text,
                format_ident!("__cellar_arg{}", index),
                Some(other.clone()),
                true,
            )
        }
    };
    let hasher = options.hasher(&name).cloned();
    Ok(Arg {
        name,
        binding,
        ty: ty.clone(),
        pattern,
        hashed,
        hasher,
        span,
    })
}

fn check_hashers(options: &CacheOptions, args: &[Arg], method: bool) -> syn::Result<()> {
    for (name, _) in &options.hashers {
        let text = name.to_string();
        if text == "self" {
            if method {
                continue;
            }
            return Err(syn::Error::new(
                name.span(),
                "`hash(self = …)` is for methods; this fn has no `self`",
            ));
        }
        match args.iter().find(|arg| arg.name == text) {
            Some(arg) if !arg.hashed => {
                return Err(syn::Error::new(
                    name.span(),
                    format!("`{text}` is left out of the key (its name starts with `_`): remove the `_` to hash it with this hasher"),
                ))
            }
            Some(_) => {}
            None => {
                let names: Vec<&str> = args.iter().filter(|arg| arg.hashed).map(|arg| arg.name.as_str()).collect();
                let known = if names.is_empty() { "it hashes no argument".to_string() } else { format!("its hashed arguments are {}", names.join(", ")) };
                return Err(syn::Error::new(name.span(), format!("`hash({text} = …)`: there is no argument `{text}`; {known}")));
            }
        }
    }
    Ok(())
}

/// The span of the first type inside `ty` that matches.
fn find(ty: &Type, matches: fn(&Type) -> bool) -> Option<Span> {
    struct Finder {
        matches: fn(&Type) -> bool,
        found: Option<Span>,
    }
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type(&mut self, ty: &'ast Type) {
            if self.found.is_none() && (self.matches)(ty) {
                self.found = Some(ty.span());
            }
            syn::visit::visit_type(self, ty);
        }
    }
    let mut finder = Finder {
        matches,
        found: None,
    };
    finder.visit_type(ty);
    finder.found
}

fn is_self(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none() && path.path.segments.first().is_some_and(|s| s.ident == "Self"))
}
