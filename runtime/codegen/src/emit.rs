//! The expansion: the function with its true signature, and its controls (`clear`, `clear_all`).
//!
//! ```text
//! fn load(url: &str, rows: usize) -> ::cellar::Data<Frame> {
//!     ::cellar::__private::cache_data(&load::__CELLAR_SPEC,
//!         ::cellar::__private::value_key(|__cellar_h| { /* "url", url; "rows", rows */ }),
//!         || -> Frame { body })
//! }
//! ::cellar::__private::item! {
//!     struct load {}
//!     impl load { const __CELLAR_SPEC: FnSpec<Frame> = …; fn clear(url: &str, rows: usize); fn clear_all() }
//! }
//! ```
//!
//! The body is the user's block, unchanged, as a closure: `return` and `?` keep their meaning.
//! The key is computed before the closure is built, so the body may consume its arguments.
//!
//! The controls live on a braced struct named like the function: it occupies only the type
//! namespace, so `load(…)` and `load::clear(…)` coexist, and unlike a module an `impl` sees the
//! types of the scope it is in (a fn declared inside another fn works too). The spec is an
//! associated const; `&load::__CELLAR_SPEC` is promoted to a `'static`. Methods get the spec as
//! a `static` inside their body and no controls (a type can't be declared in an `impl`).
//!
//! In a crate the struct goes inside an identity macro call, so it reads as one unit with the
//! function. In a notebook ([`Layout::Notebook`]) that is not enough: evcxr keeps one top-level
//! item per name (a `struct load` would replace `fn load`) and runs top-level macro calls as
//! statements. There both go into `mod __cellar_load`, brought to the top by a glob import,
//! which evcxr keeps as an unnamed item.

use crate::key;
use crate::options::{CacheOptions, Spinner};
use crate::signature::{Analysis, Arg};
use crate::{CacheKind, Layout};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Pat, PatIdent, PatType};

pub fn expand(
    kind: CacheKind,
    options: &CacheOptions,
    analysis: &Analysis,
    item: &ItemFn,
    type_salt: Option<&str>,
    layout: Layout,
) -> TokenStream {
    let fn_key = key::function_key(item, type_salt);
    let options_key = key::options_key(kind, options);
    let spec = spec(
        kind,
        options,
        &item.sig.ident.to_string(),
        &analysis.output,
        fn_key,
        options_key,
    );
    let name = &item.sig.ident;
    let output = &analysis.output;
    let private = quote!(::cellar::__private);

    let mut sig = item.sig.clone();
    let returned = match kind {
        CacheKind::Data => quote_spanned!(output.span()=> ::cellar::Data<#output>),
        CacheKind::Resource => quote_spanned!(output.span()=> ::std::sync::Arc<#output>),
    };
    sig.output = syn::parse_quote!(-> #returned);
    rename_patterns(&mut sig, analysis);

    // The call carries the return type's span, so "`Frame: Serialize` is not satisfied"
    // points at the return type.
    let at_output = Span::call_site().located_at(output.span());
    let entry = match kind {
        CacheKind::Data => quote!(cache_data),
        CacheKind::Resource => quote!(cache_resource),
    };
    let hashing = hashing(analysis);
    let key = quote!(#private::value_key(|__cellar_h| { #hashing }));
    let block = &item.block;
    let body = if analysis.args.iter().any(|arg| arg.pattern.is_some()) {
        let bindings = analysis.args.iter().filter_map(|arg| {
            let pattern = arg.pattern.as_ref()?;
            let binding = &arg.binding;
            Some(quote!(let #pattern = #binding;))
        });
        quote!(|| -> #output { #(#bindings)* #block })
    } else {
        quote!(|| -> #output #block)
    };
    let attrs = &item.attrs;
    let vis = match layout {
        Layout::Crate => item.vis.clone(),
        Layout::Notebook => syn::parse_quote!(pub(crate)),
    };

    if analysis.receiver.is_some() {
        return quote! {
            #(#attrs)* #vis #sig {
                static __CELLAR_SPEC: #private::FnSpec<#output> = #spec;
                #private::#entry(&__CELLAR_SPEC, #key, #body)
            }
        };
    }

    let call =
        quote_spanned!(at_output=> ::cellar::__private::#entry(&#name::__CELLAR_SPEC, #key, #body));
    let clear = quote_spanned!(at_output=> ::cellar::__private::clear(&Self::__CELLAR_SPEC, #key));
    let doc = format!(" Cache controls for the cached function `{name}`: `{name}::clear(…)` removes one entry, `{name}::clear_all()` all.");
    let cfgs: Vec<_> = item
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .collect();
    let clear_params = analysis.args.iter().map(clear_param);
    let function = quote! {
        #(#attrs)* #vis #sig {
            #call
        }
    };
    let controls = quote! {
            #(#cfgs)*
            #[allow(non_camel_case_types, dead_code)]
            #[doc = #doc]
            #vis struct #name {}

            #(#cfgs)*
            #[allow(dead_code, clippy::all)]
            impl #name {
                #[doc(hidden)]
                pub const __CELLAR_SPEC: #private::FnSpec<#output> = #spec;

                /// Removes the entry of these arguments (in the current session), running its
                /// `on_release`; returns whether there was one.
                pub fn clear(#(#clear_params),*) -> bool {
                    #clear
                }

                /// Removes every entry of this function (in every session), running their
                /// `on_release`; returns how many.
                pub fn clear_all() -> usize {
                    #private::clear_all(&Self::__CELLAR_SPEC)
                }
            }
    };
    match layout {
        Layout::Crate => quote! {
            #function
            #private::item! { #controls }
        },
        Layout::Notebook => {
            let module = quote::format_ident!("__cellar_{}", name);
            quote! {
                #[allow(non_snake_case, unused_imports)]
                pub(crate) mod #module {
                    use super::*;
                    #function
                    #controls
                }
                #[allow(unused_imports)]
                use #module::*;
            }
        }
    }
}

/// The `FnSpec` literal.
fn spec(
    kind: CacheKind,
    options: &CacheOptions,
    name: &str,
    output: &syn::Type,
    fn_key: [u8; 32],
    options_key: [u8; 32],
) -> TokenStream {
    let private = quote!(::cellar::__private);
    let kind = match kind {
        CacheKind::Data => quote!(#private::CacheKind::Data),
        CacheKind::Resource => quote!(#private::CacheKind::Resource),
    };
    let ttl = option(
        options
            .ttl
            .as_ref()
            .map(|ttl| quote!(|| #private::ttl(#name, &(#ttl)))),
    );
    let max_entries = option(options.max_entries.as_ref().map(|max| quote!(#max)));
    let spinner = match &options.spinner {
        Spinner::Default => quote!(#private::Spinner::Default),
        Spinner::Off => quote!(#private::Spinner::Off),
        Spinner::Text(text) => quote!(#private::Spinner::Text(#text)),
    };
    let show_time = options.show_time;
    let persist = option(
        options
            .persist_disk
            .then(|| quote!(#private::Persist::Disk)),
    );
    let scope = if options.session_scope {
        quote!(#private::Scope::Session)
    } else {
        quote!(#private::Scope::Global)
    };
    // Typed bindings give closures without annotations their parameter types.
    let validate = option(
        options
            .validate
            .as_ref()
            .map(|f| quote!({ let f: fn(&#output) -> bool = #f; f })),
    );
    let on_release = option(
        options
            .on_release
            .as_ref()
            .map(|f| quote!({ let f: fn(&#output) = #f; f })),
    );
    let fn_key = bytes(fn_key);
    let options_key = bytes(options_key);
    quote! {
        #private::FnSpec {
            name: #name,
            kind: #kind,
            key: #fn_key,
            options_key: #options_key,
            options: #private::Options {
                ttl: #ttl,
                max_entries: #max_entries,
                spinner: #spinner,
                show_time: #show_time,
                persist: #persist,
                scope: #scope,
            },
            validate: #validate,
            on_release: #on_release,
        }
    }
}

/// The statements that write the key's arguments into `__cellar_h`.
fn hashing(analysis: &Analysis) -> TokenStream {
    let private = quote!(::cellar::__private);
    let mut statements = Vec::new();
    if let Some(receiver_hasher) = &analysis.receiver {
        // Two types' methods of the same source must not share entries.
        statements
            .push(quote!(#private::hash_arg(__cellar_h, "Self", ::std::any::type_name::<Self>());));
        if let Some(hasher) = receiver_hasher {
            statements.push(quote!(#private::hash_arg(__cellar_h, "self", &(#hasher)(&self));));
        }
    }
    for arg in analysis.args.iter().filter(|arg| arg.hashed) {
        statements.push(hash_statement(arg));
    }
    quote!(#(#statements)*)
}

fn hash_statement(arg: &Arg) -> TokenStream {
    let name = &arg.name;
    let binding = &arg.binding;
    // The path carries the argument's span, so "cannot hash `T`" points at the argument.
    let span = Span::call_site().located_at(arg.span);
    let hash_arg = quote_spanned!(span=> ::cellar::__private::hash_arg);
    let value = match &arg.hasher {
        Some(hasher) => quote_spanned!(span=> &(#hasher)(&#binding)),
        None => quote_spanned!(span=> &#binding),
    };
    quote!(#hash_arg(__cellar_h, #name, #value);)
}

/// A parameter of `clear`: hashed arguments keep their binding, the others are `_`.
fn clear_param(arg: &Arg) -> TokenStream {
    let ty = &arg.ty;
    if arg.hashed {
        let binding = &arg.binding;
        quote!(#binding: #ty)
    } else {
        quote!(_: #ty)
    }
}

/// Destructuring patterns become plain bindings in the signature (destructured in the body).
fn rename_patterns(sig: &mut syn::Signature, analysis: &Analysis) {
    let mut args = analysis.args.iter();
    for input in sig.inputs.iter_mut() {
        let FnArg::Typed(PatType { pat, .. }) = input else {
            continue;
        };
        let Some(arg) = args.next() else { break };
        if arg.pattern.is_some() {
            **pat = Pat::Ident(PatIdent {
                attrs: Vec::new(),
                by_ref: None,
                mutability: None,
                ident: arg.binding.clone(),
                subpat: None,
            });
        }
    }
}

fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

fn bytes(digest: [u8; 32]) -> TokenStream {
    let bytes = digest
        .iter()
        .map(|b| proc_macro2::Literal::u8_unsuffixed(*b));
    quote!([#(#bytes),*])
}
