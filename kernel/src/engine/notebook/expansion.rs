//! Cache attributes, expanded before evcxr sees a cell.
//!
//! evcxr infers the types of `let` variables with a rust-analyzer that does not expand proc
//! macros, so `let df = load(…)` would not compile if `#[cache_data]` changed `load`'s return
//! type out of its sight. The kernel therefore expands `#[cache_data]`, `#[cache_resource]`,
//! `#[memo]` and `#[singleton]` itself with the same code generator the proc macros use
//! (`cellar-codegen`), and hands evcxr plain Rust with the true signature.
//!
//! In a cell the expansion is two edits around the user's body, which stays as written: the
//! new signature takes the place of the attribute and the old signature (keeping their line
//! count), the generated items follow the closing brace. So rustc's diagnostics in the body
//! point at the lines the user wrote. A function re-sent because code it reaches changed is
//! expanded whole, as text.

use super::edits::Edit;
use cellar_codegen::{CacheKind, Layout};
use proc_macro2::TokenStream;
use quote::ToTokens;

/// A cache attribute on a function or method: which one, and its options.
pub struct CacheAttribute {
    pub kind: CacheKind,
    pub options: TokenStream,
}

/// The cache attribute of a function, and the function without it; `None` when it has none.
pub fn split_cache_attr(
    attrs: &[syn::Attribute],
) -> Result<Option<(CacheAttribute, Vec<syn::Attribute>)>, syn::Error> {
    let Some((index, kind)) = attrs
        .iter()
        .enumerate()
        .find_map(|(i, attr)| cache_kind(attr).map(|k| (i, k)))
    else {
        return Ok(None);
    };
    let mut rest = attrs.to_vec();
    let attr = rest.remove(index);
    let options = match &attr.meta {
        syn::Meta::Path(_) => TokenStream::new(),
        syn::Meta::List(list) => list.tokens.clone(),
        syn::Meta::NameValue(nv) => {
            return Err(syn::Error::new_spanned(
                nv,
                "write the options in parentheses: #[cache_data(ttl = \"1h\")]",
            ))
        }
    };
    Ok(Some((CacheAttribute { kind, options }, rest)))
}

/// Whether a function carries a cache attribute.
pub fn is_cached(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| cache_kind(attr).is_some())
}

/// `#[cache_data]`, `#[cellar::cache_resource(…)]`, `#[memo]`, `#[singleton]`…
fn cache_kind(attr: &syn::Attribute) -> Option<CacheKind> {
    let path = attr.path();
    let last = path.segments.last()?.ident.to_string();
    let prefix_ok = path.segments.len() == 1
        || (path.segments.len() == 2 && path.segments[0].ident == "cellar");
    if !prefix_ok {
        return None;
    }
    match last.as_str() {
        "cache_data" | "memo" => Some(CacheKind::Data),
        "cache_resource" | "singleton" => Some(CacheKind::Resource),
        _ => None,
    }
}

/// A method as a function, for the code generator (it tells methods by their receiver).
pub fn method_as_fn(method: &syn::ImplItemFn) -> syn::ItemFn {
    syn::ItemFn {
        attrs: method.attrs.clone(),
        vis: method.vis.clone(),
        modifiers: method.modifiers.clone(),
        sig: method.sig.clone(),
        block: Box::new(method.block.clone()),
    }
}

/// The expansion of a cached function as tokens; `None` when it has no cache attribute.
pub fn expand(
    function: &syn::ItemFn,
    salt: Option<&str>,
    layout: Layout,
) -> Result<Option<TokenStream>, syn::Error> {
    let Some((attribute, attrs)) = split_cache_attr(&function.attrs)? else {
        return Ok(None);
    };
    let item = syn::ItemFn {
        attrs,
        ..function.clone()
    };
    cellar_codegen::expand(attribute.kind, attribute.options, item, salt, layout).map(Some)
}

/// The edits that turn a cached function of a cell (`range` its bytes in `cell`) into its
/// expansion, leaving the body's text where it is.
pub fn expand_in_place(
    cell: &str,
    range: std::ops::Range<usize>,
    body_start: usize,
    function: &syn::ItemFn,
    salt: Option<&str>,
    layout: Layout,
) -> Result<Vec<Edit>, syn::Error> {
    let Some(expanded) = expand(function, salt, layout)? else {
        return Ok(Vec::new());
    };
    let expanded = expanded.to_string();
    let body_tokens = function.block.to_token_stream().to_string();
    let Some(at) = expanded.find(&body_tokens) else {
        return Err(syn::Error::new_spanned(
            &function.sig.ident,
            format!(
                "cellar could not place the body of `{}` in its expansion; please report this cell",
                function.sig.ident
            ),
        ));
    };
    let newlines = cell[range.start..body_start].matches('\n').count();
    let head = format!("{}{}", &expanded[..at], "\n".repeat(newlines));
    let tail = expanded[at + body_tokens.len()..].to_string();
    Ok(vec![
        Edit {
            range: range.start..body_start,
            text: head,
        },
        Edit::insert(range.end, tail),
    ])
}

/// An impl block with its cached methods expanded, as text: `salts` has one salt for each
/// cached method, in order.
pub fn expand_impl(block: &syn::ItemImpl, salts: &[Option<String>]) -> Result<String, syn::Error> {
    let mut out = block.clone();
    let mut items = Vec::with_capacity(block.items.len());
    let mut salts = salts.iter();
    for item in &block.items {
        match item {
            syn::ImplItem::Fn(method) if is_cached(&method.attrs) => {
                let salt = salts.next().cloned().flatten();
                let expanded = expand(&method_as_fn(method), salt.as_deref(), Layout::Crate)?
                    .expect("the method is cached");
                items.push(syn::ImplItem::Verbatim(expanded));
            }
            other => items.push(other.clone()),
        }
    }
    out.items = items;
    Ok(out.to_token_stream().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::notebook::edits;

    #[test]
    fn expansion_shows_the_true_signature_and_keeps_the_body_in_place() {
        let cell = "#[cache_data(ttl = \"1h\")]\nfn load(n: usize) -> Vec<u8> {\n    let v = vec![0; n];\n    v\n}\nlet x = 1;";
        let function: syn::ItemFn = syn::parse_str(&cell[..cell.find("\nlet").unwrap()]).unwrap();
        let body_start = cell.find("{\n").unwrap();
        let end = cell.find("\nlet").unwrap();
        let edits =
            expand_in_place(cell, 0..end, body_start, &function, None, Layout::Notebook).unwrap();
        let out = edits::apply(cell, edits).unwrap().text;
        assert!(out.contains("cellar :: Data < Vec < u8 > >"), "{out}");
        assert!(out.contains("mod __cellar_load"), "{out}");
        assert!(!out.contains("#[cache_data"));
        assert_eq!(out.lines().count(), cell.lines().count(), "{out}");
        assert_eq!(out.lines().nth(2), cell.lines().nth(2));
        assert!(out.ends_with("\nlet x = 1;"));
    }

    #[test]
    fn cached_methods_of_an_impl_are_expanded() {
        let block: syn::ItemImpl = syn::parse_str(
            "impl Db { #[cellar::cache_data] fn rows(&self, n: u32) -> Vec<u32> { vec![n] } fn plain(&self) {} }",
        )
        .unwrap();
        let text = expand_impl(&block, &[Some("salt".into())]).unwrap();
        assert!(
            text.contains("fn rows (& self , n : u32) -> :: cellar :: Data < Vec < u32 > >"),
            "{text}"
        );
        assert!(text.contains("fn plain"), "{text}");
        assert!(!text.contains("cellar :: cache_data]"), "{text}");
    }

    #[test]
    fn options_must_be_in_parentheses() {
        let function: syn::ItemFn = syn::parse_str("#[cache_data = 1] fn f() -> u8 { 1 }").unwrap();
        let error = expand(&function, None, Layout::Notebook).unwrap_err();
        assert!(error.to_string().contains("parentheses"), "{error}");
    }
}
