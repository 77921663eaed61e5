//! The attribute macros of `cellar`: thin wrappers around `cellar-codegen`.
//!
//! `#[cache_data]` / `#[memo]`, `#[cache_resource]` / `#[singleton]` and `#[derive(CacheHash)]`.
//! See the `cellar` crate for what they mean.

use cellar_codegen::CacheKind;
use proc_macro::TokenStream;

/// Caches a function's result and returns `cellar::Data<T>`, a copy-on-write handle.
#[proc_macro_attribute]
pub fn cache_data(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(CacheKind::Data, attr, item)
}

/// The former name of [`cache_data`](macro@cache_data).
#[proc_macro_attribute]
pub fn memo(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(CacheKind::Data, attr, item)
}

/// Caches one shared instance per argument list and returns `Arc<T>`.
#[proc_macro_attribute]
pub fn cache_resource(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(CacheKind::Resource, attr, item)
}

/// The former name of [`cache_resource`](macro@cache_resource).
#[proc_macro_attribute]
pub fn singleton(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(CacheKind::Resource, attr, item)
}

/// Implements `cellar::CacheHash`: fields in order, enum variants by index.
/// `#[cache_hash(skip)]` on a field leaves it out of the key.
#[proc_macro_derive(CacheHash, attributes(cache_hash))]
pub fn derive_cache_hash(input: TokenStream) -> TokenStream {
    match syn::parse::<syn::DeriveInput>(input) {
        Ok(input) => cellar_codegen::derive_cache_hash(input).into(),
        Err(error) => error.into_compile_error().into(),
    }
}

fn expand(kind: CacheKind, attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let function: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let error = syn::Error::new(
                proc_macro2::Span::call_site(),
                format!("#[{}] applies to a fn", kind.name()),
            );
            return quote_error(error, item);
        }
    };
    match cellar_codegen::expand(
        kind,
        attr.into(),
        function,
        None,
        cellar_codegen::Layout::Crate,
    ) {
        Ok(expanded) => expanded.into(),
        // Keep the function as written beside the error, so its callers don't pile up errors.
        Err(error) => quote_error(error, item),
    }
}

fn quote_error(error: syn::Error, item: proc_macro2::TokenStream) -> TokenStream {
    let mut tokens = error.into_compile_error();
    tokens.extend(item);
    tokens.into()
}
