//! `#[derive(CacheHash)]`: a struct hashes its fields in order; an enum its variant's index,
//! then that variant's fields. Field names are not hashed (the type fixes them). Every type
//! parameter gets a `CacheHash` bound. `#[cache_hash(skip)]` leaves a field out of the key.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Field, Fields};

pub fn derive(mut input: DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    for param in input.generics.type_params_mut() {
        param.bounds.push(syn::parse_quote!(::cellar::CacheHash));
    }
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let body = match &input.data {
        Data::Struct(data) => {
            let (pattern, statements) = destructure(&data.fields)?;
            quote!(let Self #pattern = self; #(#statements)*)
        }
        Data::Enum(data) => {
            let arms = data
                .variants
                .iter()
                .enumerate()
                .map(|(index, variant)| {
                    let index = index as u32;
                    let ident = &variant.ident;
                    let (pattern, statements) = destructure(&variant.fields)?;
                    Ok(quote!(Self::#ident #pattern => { __cellar_h.write_u32(#index); #(#statements)* }))
                })
                .collect::<syn::Result<Vec<_>>>()?;
            if arms.is_empty() {
                quote!(match *self {})
            } else {
                quote!(match self { #(#arms)* })
            }
        }
        Data::Union(data) => {
            return Err(syn::Error::new_spanned(
                data.union_token,
                "CacheHash can't be derived for a union: implement it by hand",
            ))
        }
    };
    Ok(quote! {
        impl #impl_generics ::cellar::CacheHash for #name #ty_generics #where_clause {
            #[allow(unused_variables)]
            fn cache_hash(&self, __cellar_h: &mut ::cellar::KeyHasher) {
                #body
            }
        }
    })
}

/// A pattern binding every field (`{ a: __f0, .. }` or `(__f0, ..)`) and the statements that
/// hash the bound fields.
fn destructure(fields: &Fields) -> syn::Result<(TokenStream, Vec<TokenStream>)> {
    let mut statements = Vec::new();
    let mut bindings = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let binding = format_ident!("__cellar_f{}", index);
        if !skipped(field)? {
            statements.push(quote!(::cellar::CacheHash::cache_hash(#binding, __cellar_h);));
        }
        bindings.push((field.ident.clone(), binding));
    }
    let pattern = match fields {
        Fields::Named(_) => {
            let parts = bindings
                .iter()
                .map(|(ident, binding)| quote!(#ident: #binding));
            quote!({ #(#parts),* })
        }
        Fields::Unnamed(_) => {
            let parts = bindings.iter().map(|(_, binding)| binding);
            quote!(( #(#parts),* ))
        }
        Fields::Unit => quote!(),
    };
    Ok((pattern, statements))
}

fn skipped(field: &Field) -> syn::Result<bool> {
    let mut skip = false;
    for attr in field
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cache_hash"))
    {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else {
                Err(meta.error("the field option is `#[cache_hash(skip)]`"))
            }
        })?;
    }
    Ok(skip)
}
