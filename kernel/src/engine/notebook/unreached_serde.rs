//! What the build of a cell that runs can leave out: the serde impls its code cannot reach.
//!
//! evcxr writes every earlier item of the notebook into each cell's crate, so rustc
//! type-checks and borrow-checks the `Serialize` and `Deserialize` impls serde derives for every
//! type in every build: in the cached-functions notebook, about half of the 0.65 s of rustc a
//! trivial cell takes at its end. Those impls only run when this build's code serializes a
//! value of the type, and that code has to name the type or reach it: a variable it uses holds
//! one, a notebook item it reaches names it (a cached function that returns it, a type with a
//! field of it, a method that builds one). So the names of the cell's code (its statements and
//! what it declares) are followed through the earlier items that provide them, whose own names
//! count in turn, and through the types of the variables they mention. A type none of it
//! reaches keeps its other derives; its serde impls become impls whose bodies panic, naming
//! what they stand for (`body_rewrite`).
//!
//! evcxr's lines that take variables out of its store and put them back need a variable's
//! type, never its serde impls, so they are not the cell's code (`cell_code`). What runs
//! with no name in sight counts whole: `impl Drop` blocks (a variable is dropped by the code
//! that replaces it), items under attributes or derives the kernel does not know (`#[ctor]`
//! runs when the library loads; a derive may register its type), and items whose names cannot
//! be told.

use super::body_rewrite::{derive_paths, is_type_inert, Rewrite};
use super::cell_code::CellCode;
use super::cell_items::{associated_names, type_name};
use super::dependencies::Idents;
use super::edits::LineIndex;
use super::unchanged_bodies::declared_names;
use quote::ToTokens;
use std::collections::{BTreeMap, BTreeSet};

/// Leaves out, by `rewrite`, the serde impls of the crate `file` (whose text `lines` index) that
/// the cell's `code` and what the cell declares (`cell_declares`) cannot reach; `None` when
/// the crate cannot be read that way.
pub fn leave_out(
    file: &syn::File,
    code: &CellCode,
    cell_declares: &BTreeSet<String>,
    lines: &LineIndex,
    rewrite: &mut Rewrite,
) -> Option<()> {
    let mut roots = code.mentions.clone();
    roots.extend(cell_declares.iter().cloned());
    let reached = reach(&file.items, &code.variables, roots);
    for item in &file.items {
        let name = match item {
            syn::Item::Struct(s) => &s.ident,
            syn::Item::Enum(e) => &e.ident,
            _ => continue,
        };
        if !reached.contains(&name.to_string()) {
            rewrite.type_serde_impls(item, lines)?;
        }
    }
    Some(())
}

/// Every name `roots` reach: an item that provides a reached name (or runs unnamed) adds the
/// names it mentions, and so does the type of a reached variable.
fn reach(
    items: &[syn::Item],
    variables: &BTreeMap<String, Idents>,
    mut reached: BTreeSet<String>,
) -> BTreeSet<String> {
    let pieces: Vec<(Option<Vec<String>>, Idents)> = items
        .iter()
        .map(|item| (provided_names(item), Idents::of(item.to_token_stream())))
        .chain(
            variables
                .iter()
                .map(|(name, type_names)| (Some(vec![name.clone()]), type_names.clone())),
        )
        .collect();
    let mut taken = vec![false; pieces.len()];
    loop {
        let mut grew = false;
        for (index, (provides, mentions)) in pieces.iter().enumerate() {
            let needed = provides
                .as_ref()
                .is_none_or(|names| names.iter().any(|name| reached.contains(name)));
            if !taken[index] && needed {
                taken[index] = true;
                reached.extend(mentions.0.iter().cloned());
                grew = true;
            }
        }
        if !grew {
            return reached;
        }
    }
}

/// The names code reaches an item by (an impl block: its type's, its trait's and its
/// associated items'); `None` when the item may run with no name in sight, or its names cannot
/// be told: it is always reached.
fn provided_names(item: &syn::Item) -> Option<Vec<String>> {
    if !known_attributes_only(item) {
        return None;
    }
    match item {
        syn::Item::Impl(block) => {
            let trait_name = block
                .trait_
                .as_ref()
                .and_then(|(path, _)| path.segments.last())
                .map(|segment| segment.ident.to_string());
            if trait_name.as_deref() == Some("Drop") {
                return None;
            }
            let mut names = vec![type_name(&block.self_ty)];
            names.extend(trait_name);
            names.extend(associated_names(block));
            Some(names)
        }
        other => declared_names(other),
    }
}

/// Derives whose code runs only when called on a value: any other (one that registers the type
/// somewhere when the library loads) makes its type always reached.
const KNOWN_DERIVES: [&str; 12] = [
    "Clone",
    "Copy",
    "Debug",
    "Default",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Hash",
    "Serialize",
    "Deserialize",
    "CacheHash",
];

/// Whether the item, and every item of a module, carries only attributes and derives the kernel
/// knows to run nothing by themselves.
fn known_attributes_only(item: &syn::Item) -> bool {
    let attrs = match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Union(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        syn::Item::Mod(i) => {
            return i.attrs.iter().all(is_type_inert)
                && i.content
                    .iter()
                    .flat_map(|(_, items)| items)
                    .all(known_attributes_only);
        }
        _ => return false,
    };
    attrs.iter().all(is_type_inert) && attrs.iter().all(known_derives)
}

/// Whether a `#[derive(…)]` names only known derives (any other attribute passes).
fn known_derives(attr: &syn::Attribute) -> bool {
    if !attr.path().is_ident("derive") {
        return true;
    }
    derive_paths(attr).is_some_and(|paths| {
        paths.iter().all(|path| {
            path.segments
                .last()
                .is_some_and(|last| KNOWN_DERIVES.contains(&last.ident.to_string().as_str()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::super::cell_code::evcxr_crates::cell_crate;
    use super::super::leave_out_of_a_run;

    /// The crate `source` as the build of a cell that declares `declares` compiles it.
    fn lighter(source: &str, declares: &[&str]) -> Option<String> {
        let declares = declares.iter().map(|name| name.to_string()).collect();
        leave_out_of_a_run(source, Some(&declares))
    }

    fn crate_of(items: &str, variables: &[(&str, &str)], statements: &str) -> String {
        let items = format!("use serde::{{Serialize, Deserialize}};\n{items}");
        cell_crate(&items, variables, statements)
    }

    const TYPES: &str = "#[derive(Debug, Serialize, Deserialize)]\nstruct Kept { x: u32 }\n#[derive(Debug, Serialize, Deserialize)]\nstruct Inner { y: u8 }\n#[derive(Clone, serde::Serialize)]\n#[serde(rename_all = \"camelCase\")]\nstruct Away { z: u8 }\n";

    fn serde_kept(out: &str, name: &str) -> bool {
        !out.contains(&format!("for {name} {{ fn serialize"))
    }

    #[test]
    fn types_the_cells_variables_and_calls_reach_keep_their_serde_impls() {
        // `k` holds a `Kept`; `make` returns an `Outer`, which holds an `Inner`. `Away` is only
        // held by a variable the cell does not use, `unused`.
        let items = format!("{TYPES}#[derive(Serialize)]\nstruct Outer {{ inner: Inner }}\nfn make() -> Outer {{ Outer {{ inner: Inner {{ y: 1 }} }} }}\n");
        let source = crate_of(
            &items,
            &[("k", "Vec<Kept>"), ("unused", "cellar::Data<Away>")],
            "let o = make(); println!(\"{}\", k.len());",
        );
        let out = lighter(&source, &[]).unwrap();
        for name in ["Kept", "Inner", "Outer"] {
            assert!(serde_kept(&out, name), "{name}: {out}");
        }
        assert!(!serde_kept(&out, "Away"), "{out}");
        assert!(out.contains("#[derive(Clone)]\n\nstruct Away"), "{out}");
        assert!(
            out.contains("::core::panic!(\"cellar left the `Serialize` impl of `Away` out of this cell's build"),
            "{out}"
        );
        assert_eq!(
            out.lines().position(|line| line.starts_with("pub extern")),
            source
                .lines()
                .position(|line| line.starts_with("pub extern"))
        );
    }

    #[test]
    fn what_the_cell_declares_keeps_its_serde_impls() {
        let source = crate_of(TYPES, &[], "let n = 1;");
        let out = lighter(&source, &["Away"]).unwrap();
        assert!(serde_kept(&out, "Away"), "{out}");
        assert!(!serde_kept(&out, "Kept"), "{out}");
    }

    #[test]
    fn a_method_name_reaches_its_impl_and_what_that_names() {
        let items = format!("{TYPES}struct Tool;\nimpl Tool {{ fn report(&self) -> String {{ serde_json::to_string(&Inner {{ y: 2 }}).unwrap() }} }}\n");
        let source = crate_of(&items, &[("t", "Tool")], "t.report()");
        let out = lighter(&source, &[]).unwrap();
        assert!(serde_kept(&out, "Inner"), "{out}");
        assert!(!serde_kept(&out, "Kept"), "{out}");
    }

    #[test]
    fn drop_impls_and_unknown_attributes_and_derives_count_as_reached() {
        let dropping = format!("{TYPES}struct Holder;\nimpl Drop for Holder {{ fn drop(&mut self) {{ save(&Kept {{ x: 1 }}) }} }}\n");
        let out = lighter(&crate_of(&dropping, &[], "1"), &[]).unwrap();
        assert!(serde_kept(&out, "Kept"), "{out}");
        assert!(!serde_kept(&out, "Inner"), "{out}");
        let at_load = format!("{TYPES}#[ctor::ctor]\nfn at_load() {{ save(&Inner {{ y: 1 }}) }}\n");
        let out = lighter(&crate_of(&at_load, &[], "1"), &[]).unwrap();
        assert!(serde_kept(&out, "Inner"), "{out}");
        let registered = format!(
            "{TYPES}#[derive(Serialize, registry::Register)]\nstruct Entry {{ inner: Inner }}\n"
        );
        let out = lighter(&crate_of(&registered, &[], "1"), &[]).unwrap();
        assert!(
            serde_kept(&out, "Inner") && serde_kept(&out, "Entry"),
            "{out}"
        );
        assert!(!serde_kept(&out, "Kept"), "{out}");
    }

    #[test]
    fn derives_of_other_crates_named_like_serdes_are_kept() {
        let items = "#[derive(borsh::Serialize)]\nstruct B { x: u8 }\n";
        assert_eq!(lighter(&crate_of(items, &[], "1"), &[]), None);
    }

    #[test]
    fn a_crate_without_evcxrs_entry_point_is_left_whole() {
        assert_eq!(lighter(TYPES, &[]), None);
    }
}
