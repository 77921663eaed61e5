//! What a cached function's key covers besides its own source: the notebook code it reaches.
//!
//! Starting from the identifiers of the function's text, the closure takes in, transitively:
//! named items of that name (functions, consts, statics, types, traits, macros, modules, and the
//! module an item of that name is declared in), the impl blocks of a type or trait of that name,
//! every impl block that defines an associated item of that name (a method called by name: any
//! notebook method of that name counts, whatever its receiver's type), the `use` items that bring
//! the name in, and `:dep` crates by name and version. It works on tokens, so names inside macro
//! calls (`println!("{}", helper(x))`, and `{name}` captures in format strings) count too.
//! It over-reaches by design (a local variable named like a notebook function adds that
//! function): a needless miss is acceptable, a stale hit is not.

use proc_macro2::{TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};

/// The identifiers a piece of code mentions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Idents(pub BTreeSet<String>);

impl Idents {
    pub fn of(tokens: TokenStream) -> Idents {
        let mut found = BTreeSet::new();
        collect(tokens, &mut found);
        Idents(found)
    }
}

fn collect(tokens: TokenStream, found: &mut BTreeSet<String>) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                found.insert(name.strip_prefix("r#").map(str::to_string).unwrap_or(name));
            }
            TokenTree::Group(group) => collect(group.stream(), found),
            TokenTree::Literal(literal) => format_captures(&literal.to_string(), found),
            TokenTree::Punct(_) => {}
        }
    }
}

/// `{name}` and `{name:?}` in a string literal: format strings capture names from scope.
fn format_captures(literal: &str, found: &mut BTreeSet<String>) {
    if !literal.ends_with('"') {
        return;
    }
    let mut rest = literal;
    while let Some(at) = rest.find('{') {
        rest = &rest[at + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.chars().next().is_some_and(|c| !c.is_ascii_digit()) {
            found.insert(name);
        }
    }
}

/// A piece of notebook code the closure can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reached<'a> {
    Item(&'a str),
    Block(&'a str),
    Import(&'a str),
    Dep(&'a str),
}

/// What the closure walks: the notebook's code, indexed by the names that reach it.
pub trait CodeIndex {
    /// The pieces of code a name reaches directly.
    fn reached_by(&self, name: &str) -> Vec<Reached<'_>>;
    /// The text of a piece (hashed into the key) and the names it mentions in turn.
    fn text_and_idents(&self, piece: Reached<'_>) -> Option<(&str, &Idents)>;
}

/// Every piece of notebook code `roots` reach, transitively, in a stable order.
pub fn closure<'a>(index: &'a impl CodeIndex, roots: &Idents) -> BTreeMap<Reached<'a>, &'a str> {
    let mut reached = BTreeMap::new();
    let mut seen_names: BTreeSet<String> = BTreeSet::new();
    let mut pending: Vec<String> = roots.0.iter().cloned().collect();
    while let Some(name) = pending.pop() {
        if !seen_names.insert(name.clone()) {
            continue;
        }
        for piece in index.reached_by(&name) {
            if reached.contains_key(&piece) {
                continue;
            }
            if let Some((text, idents)) = index.text_and_idents(piece) {
                reached.insert(piece, text);
                pending.extend(
                    idents
                        .0
                        .iter()
                        .filter(|n| !seen_names.contains(*n))
                        .cloned(),
                );
            }
        }
    }
    reached
}

/// The salt mixed into a cached function's key: the text of every piece it reaches, sorted.
/// Only names the user wrote go in (not the kernel's anchor numbers, which depend on the order
/// cells ran in), so the same notebook gives the same keys in every kernel.
pub fn salt(reached: &BTreeMap<Reached<'_>, &str>) -> Option<String> {
    let mut entries: Vec<String> = reached
        .iter()
        .map(|(piece, text)| {
            let label = match piece {
                Reached::Item(name) => format!("item {name}"),
                Reached::Block(_) => "block".to_string(),
                Reached::Import(name) => format!("use {name}"),
                Reached::Dep(name) => format!("dep {name}"),
            };
            format!("{label}\n{text}\n")
        })
        .collect();
    entries.sort();
    (!entries.is_empty()).then(|| entries.concat())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn identifiers_come_from_macros_and_format_strings_too() {
        let idents = Idents::of(quote! {
            fn calc(x: u64) -> u64 { println!("{LIMIT} {x:?} {0}", helper(x)); r#type() }
        });
        for name in ["calc", "x", "u64", "println", "helper", "LIMIT", "type"] {
            assert!(idents.0.contains(name), "{name}: {idents:?}");
        }
        assert!(!idents.0.contains("0"));
    }

    struct Fake(BTreeMap<&'static str, (&'static str, Idents)>);

    impl CodeIndex for Fake {
        fn reached_by(&self, name: &str) -> Vec<Reached<'_>> {
            self.0
                .keys()
                .filter(|k| **k == name)
                .map(|k| Reached::Item(k))
                .collect()
        }
        fn text_and_idents(&self, piece: Reached<'_>) -> Option<(&str, &Idents)> {
            let Reached::Item(name) = piece else {
                return None;
            };
            self.0.get(name).map(|(t, i)| (*t, i))
        }
    }

    #[test]
    fn the_closure_is_transitive_and_ignores_the_rest() {
        let item = |text: &'static str| (text, Idents::of(text.parse().unwrap()));
        let index = Fake(BTreeMap::from([
            ("helper", item("fn helper() { inner() }")),
            ("inner", item("fn inner() { LIMIT }")),
            ("LIMIT", item("const LIMIT: u8 = 1;")),
            ("unrelated", item("fn unrelated() {}")),
        ]));
        let reached = closure(&index, &Idents::of(quote!(helper(x))));
        let names: Vec<_> = reached.keys().copied().collect();
        assert_eq!(
            names,
            [
                Reached::Item("LIMIT"),
                Reached::Item("helper"),
                Reached::Item("inner")
            ]
        );
        assert!(salt(&reached).unwrap().contains("const LIMIT"));
        assert_eq!(salt(&closure(&index, &Idents::of(quote!(x)))), None);
    }
}
