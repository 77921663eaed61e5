//! The code generator behind `#[cache_data]`, `#[cache_resource]` and `#[derive(CacheHash)]`.
//!
//! A plain library, so two callers share it: the proc macros of `cellar-macros`, and the kernel,
//! which expands cache attributes in notebook cells before evcxr sees them (evcxr's type
//! inference does not expand proc macros, so it must be shown the true signature). The output is
//! plain Rust that names only `::cellar::…` and `::std::…` paths.
//!
//! - `options`: parsing and checking the attribute's options;
//! - `signature`: what a cached fn may look like and how each argument enters the key;
//! - `key`: the function key and the options key;
//! - `emit`: the expansion;
//! - `derive`: `#[derive(CacheHash)]`.

mod derive;
mod emit;
mod key;
mod options;
mod signature;

use proc_macro2::TokenStream;

/// Which attribute: `cache_data` (alias `memo`) or `cache_resource` (alias `singleton`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheKind {
    Data,
    Resource,
}

impl CacheKind {
    /// The attribute's name.
    pub fn name(self) -> &'static str {
        match self {
            CacheKind::Data => "cache_data",
            CacheKind::Resource => "cache_resource",
        }
    }
}

/// Where the expansion goes, which decides how the controls sit beside the function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A Rust crate (the proc macros): the controls are a struct named like the function.
    Crate,
    /// A notebook cell run by evcxr, which keeps one top-level item per name: the function and
    /// its controls go into a module of their own, glob-imported at the top.
    Notebook,
}

/// Expands a cache attribute: `attr` is what is inside its parentheses, `item` the function
/// without the attribute. `type_salt` is mixed into the function key (the kernel passes the
/// definitions of the notebook types the signature names; the proc macros pass `None`).
pub fn expand(
    kind: CacheKind,
    attr: TokenStream,
    item: syn::ItemFn,
    type_salt: Option<&str>,
    layout: Layout,
) -> syn::Result<TokenStream> {
    let options = options::CacheOptions::parse(attr)?;
    let analysis = signature::analyze(kind, &item, &options)?;
    Ok(emit::expand(
        kind, &options, &analysis, &item, type_salt, layout,
    ))
}

/// `#[derive(CacheHash)]`: fields in order, enum variants by index; type parameters get a
/// `CacheHash` bound; a field marked `#[cache_hash(skip)]` is left out.
pub fn derive_cache_hash(input: syn::DeriveInput) -> TokenStream {
    derive::derive(input).unwrap_or_else(syn::Error::into_compile_error)
}

#[cfg(test)]
mod tests;
