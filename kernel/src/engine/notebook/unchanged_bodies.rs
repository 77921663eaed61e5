//! What the check of a cell of items can leave out: the bodies it checked before.
//!
//! A cell of items only is checked, not compiled (`checked_cells`). But evcxr writes every
//! earlier item of the notebook into each cell's crate, so that check type-checks and
//! borrow-checks every function body and every derived `serde` impl again: in the
//! cached-functions notebook, from 90 ms of rustc at its first item cell to 280 ms at its last.
//!
//! An earlier item passed its check when its cell ran. Its body can only fail now through
//! something this cell declares: a name it mentions, directly or through the items it mentions
//! (a struct whose field type the cell redefines, a method a trait impl of the cell adds; a
//! method of an inherent impl is reached through its type, which code that calls it mentions or
//! reaches through what returns the type). So for the check, a body that reaches none of the
//! cell's names becomes `loop {}`, and the derived `Serialize`/`Deserialize` of such a type
//! become impls without bodies (`body_rewrite` makes the edits). A build that runs code, a cell
//! with statements, compiles every body; it leaves out only the serde impls its code cannot
//! reach (`unreached_serde`).

use super::body_rewrite::{Placeholder, Rewrite};
use super::cell_items::{associated_names, kind_of, type_name, CellItems, ItemKind};
use super::dependencies::Idents;
use super::edits::LineIndex;
use quote::ToTokens;
use std::collections::BTreeSet;

/// The names a cell declares (its items', its impls' types and traits, the methods of its trait
/// impls, what its `use` items bring in), as its build needs them; `None` when it has anything
/// whose names the kernel cannot tell (a glob import): its build then leaves nothing out.
pub fn declared_by(cell: &CellItems) -> Option<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for item in &cell.items {
        names.extend(declared_names(&item.item)?);
        if let ItemKind::Block(identity) = &item.kind {
            names.extend(identity.names().into_iter().map(str::to_string));
        }
    }
    Some(names)
}

/// `source` (a crate of earlier items and the cell's, whose names are `cell_declares`) with the
/// bodies and derived serde impls left out that cannot fail through the cell; `None` when
/// nothing is left out, or the source cannot be read that way.
pub fn leave_out(source: &str, cell_declares: &BTreeSet<String>) -> Option<String> {
    let file = syn::parse_file(source).ok()?;
    let unchanged = unchanged_items(&file.items, cell_declares)?;
    let lines = LineIndex::new(source);
    let mut rewrite = Rewrite::new(Placeholder::Loop, &file.items);
    for item in unchanged {
        rewrite.item(item, &lines)?;
    }
    rewrite.apply(source)
}

/// The items of `items` that reach none of `cell_declares`; `None` when one that does declares
/// names no one can tell.
fn unchanged_items<'a>(
    items: &'a [syn::Item],
    cell_declares: &BTreeSet<String>,
) -> Option<Vec<&'a syn::Item>> {
    let mentions: Vec<Idents> = items
        .iter()
        .map(|item| Idents::of(item.to_token_stream()))
        .collect();
    let mut reached = cell_declares.clone();
    let mut changed = vec![false; items.len()];
    loop {
        let mut grew = false;
        for (index, item) in items.iter().enumerate() {
            if !changed[index] && !mentions[index].0.is_disjoint(&reached) {
                changed[index] = true;
                reached.extend(declared_names(item)?);
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    Some(
        items
            .iter()
            .zip(changed)
            .filter_map(|(item, changed)| (!changed).then_some(item))
            .collect(),
    )
}

/// The names an item puts in scope, and the associated items a trait impl adds (an inherent
/// impl stands for its type); `None` when they cannot be told from its text (a macro call, a
/// glob import of anything but the kernel's own modules of a cached function, whose names their
/// `mod` item declares).
pub(super) fn declared_names(item: &syn::Item) -> Option<Vec<String>> {
    match item {
        syn::Item::Trait(t) => {
            let mut names = vec![t.ident.to_string()];
            names.extend(t.items.iter().filter_map(|item| match item {
                syn::TraitItem::Fn(f) => Some(f.sig.ident.to_string()),
                syn::TraitItem::Const(c) => Some(c.ident.to_string()),
                syn::TraitItem::Type(t) => Some(t.ident.to_string()),
                _ => None,
            }));
            Some(names)
        }
        syn::Item::Impl(block) if block.trait_.is_none() => Some(vec![type_name(&block.self_ty)]),
        syn::Item::Impl(block) => Some(associated_names(block).into_iter().collect()),
        syn::Item::Mod(m) => {
            let mut names = vec![m.ident.to_string()];
            for inner in m.content.iter().flat_map(|(_, items)| items) {
                names.extend(declared_names(inner)?);
            }
            Some(names)
        }
        syn::Item::ForeignMod(block) => Some(
            block
                .items
                .iter()
                .filter_map(|item| match item {
                    syn::ForeignItem::Fn(f) => Some(f.sig.ident.to_string()),
                    syn::ForeignItem::Static(s) => Some(s.ident.to_string()),
                    syn::ForeignItem::Type(t) => Some(t.ident.to_string()),
                    _ => None,
                })
                .collect(),
        ),
        syn::Item::Use(u) => imported_names(&u.tree),
        other => match kind_of(other)? {
            ItemKind::Named { name } => Some(vec![name]),
            ItemKind::Import { names } => Some(names),
            ItemKind::Block(_) => None,
        },
    }
}

/// What a `use` tree brings into scope; `None` for a glob of anything but a kernel module or
/// the module around (`super::*`, whose names are declared there).
fn imported_names(tree: &syn::UseTree) -> Option<Vec<String>> {
    match tree {
        syn::UseTree::Path(p)
            if ["super", "crate"].contains(&p.ident.to_string().as_str())
                && matches!(*p.tree, syn::UseTree::Glob(_)) =>
        {
            Some(Vec::new())
        }
        syn::UseTree::Path(p) if p.ident.to_string().starts_with(KERNEL_MODULE_PREFIX) => {
            match &*p.tree {
                syn::UseTree::Glob(_) => Some(Vec::new()),
                other => imported_names(other),
            }
        }
        syn::UseTree::Path(p) => imported_names(&p.tree),
        syn::UseTree::Name(n) => Some(vec![n.ident.to_string()]),
        syn::UseTree::Rename(r) => Some(vec![r.rename.to_string()]),
        syn::UseTree::Glob(_) => None,
        syn::UseTree::Group(g) => {
            let mut names = Vec::new();
            for tree in &g.items {
                names.extend(imported_names(tree)?);
            }
            Some(names)
        }
    }
}

/// The modules the kernel generates beside a cached function (`__cellar_<name>`).
const KERNEL_MODULE_PREFIX: &str = "__cellar_";

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    fn lines_of(text: &str) -> usize {
        text.lines().count()
    }

    #[test]
    fn a_body_that_reaches_nothing_of_the_cell_is_left_out_on_the_same_lines() {
        let source = "fn old(x: u32) -> u32 {\n    x + 1\n}\nfn new() -> u32 { 2 }\n";
        let out = leave_out(source, &names(&["new"])).unwrap();
        assert!(
            out.starts_with("#[allow(unused_variables)] fn old(x: u32) -> u32 { loop {}\n\n}\n"),
            "{out}"
        );
        assert!(out.contains("fn new() -> u32 { 2 }"), "{out}");
        assert_eq!(lines_of(&out), lines_of(source));
    }

    #[test]
    fn what_reaches_the_cell_through_other_items_is_kept_whole() {
        // `B` is redefined by the cell; `A` holds a `B`; `f` reads an `A`'s field.
        let source = "struct A { b: B }\nfn f(a: &A) -> usize { a.b.len() }\nfn g() -> u8 { 1 }\nstruct B;\n";
        let out = leave_out(source, &names(&["B"])).unwrap();
        assert!(out.contains("fn f(a: &A) -> usize { a.b.len() }"), "{out}");
        assert!(out.contains("fn g() -> u8 { loop {}}"), "{out}");
    }

    #[test]
    fn a_method_name_a_trait_impl_of_the_cell_adds_keeps_its_callers_whole() {
        let source = "struct P;\nfn call(p: &P) -> u8 { p.size() }\nimpl P { fn other(&self) -> u8 { 0 } }\n";
        let out = leave_out(source, &names(&["size"])).unwrap();
        assert!(out.contains("{ p.size() }"), "{out}");
        assert!(out.contains("fn other(&self) -> u8 { loop {}}"), "{out}");
    }

    #[test]
    fn an_inherent_impl_is_reached_through_its_type() {
        // The cell changes `New`; `Old::make` returns one, so `Old` and whoever has an `Old`
        // (through `get`) are checked in full; `count` only shares a method name.
        let source = "struct Old;\nimpl Old { fn make(&self) -> New { New } }\nfn get() -> Old { Old }\nfn use_it() -> u8 { get().make().0 }\nfn count(v: &Vec<u8>) -> usize { v.len() }\nimpl Other { fn make(&self) {} }\n";
        let out = leave_out(source, &names(&["New"])).unwrap();
        assert!(out.contains("fn make(&self) -> New { New }"), "{out}");
        assert!(out.contains("{ get().make().0 }"), "{out}");
        assert!(
            out.contains("fn count(v: &Vec<u8>) -> usize { loop {}}"),
            "{out}"
        );
        assert!(
            out.contains("impl Other { #[allow(unused_variables)] fn make(&self) { loop {}} }"),
            "{out}"
        );
    }

    #[test]
    fn const_fns_impl_trait_returns_impls_inside_and_attribute_macros_keep_their_bodies() {
        let source = "const fn c() -> u8 { 1 }\nfn i() -> (impl Fn(), u8) { (|| (), 1) }\nfn setup() { impl Show for Q {} }\n#[tokio::main]\nasync fn m() { work().await }\n#[async_trait]\nimpl Go for Q { async fn go(&self) { work().await } }\n";
        assert_eq!(leave_out(source, &names(&["other"])), None);
    }

    #[test]
    fn serde_derives_become_impls_without_bodies_after_the_last_line() {
        let source = "use serde::Deserialize;\n#[derive(Clone, serde::Serialize, Deserialize)]\n#[serde(rename_all = \"camelCase\")]\nstruct S {\n    #[serde(default)]\n    x: u32,\n}\n";
        let out = leave_out(source, &names(&["other"])).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        let (kept, added) = lines.split_at(lines_of(source));
        assert_eq!(
            kept,
            [
                "use serde::Deserialize;",
                "#[derive(Clone)]",
                "",
                "struct S {",
                "    ",
                "    x: u32,",
                "}"
            ]
        );
        let added = added.join("\n");
        assert!(added.contains("impl serde :: Serialize for S {"), "{out}");
        assert!(
            added.contains("impl<'de> Deserialize<'de> for S {"),
            "{out}"
        );
    }

    #[test]
    fn generic_types_keep_their_derives() {
        let source = "#[derive(serde::Serialize)]\nstruct W<T> { t: T }\n";
        assert_eq!(leave_out(source, &names(&["other"])), None);
    }

    #[test]
    fn types_under_an_attribute_macro_keep_their_derives() {
        let source = "#[serde_with::serde_as]\n#[derive(serde::Serialize)]\nstruct S {\n    #[serde_as(as = \"DisplayFromStr\")]\n    x: u32,\n}\n";
        assert_eq!(leave_out(source, &names(&["other"])), None);
    }

    #[test]
    fn a_glob_import_reached_by_the_cell_leaves_everything_in() {
        let source = "use helpers::*;\nfn f() -> u8 { helpers::g() }\n";
        assert_eq!(leave_out(source, &names(&["helpers"])), None);
    }

    #[test]
    fn the_kernels_cached_function_modules_declare_their_function() {
        let source = "mod __cellar_load { use super::*; pub fn load() -> u8 { 1 } }\nuse __cellar_load::*;\nfn user() -> u8 { load() }\nfn other() -> u8 { 3 }\n";
        let out = leave_out(source, &names(&["load"])).unwrap();
        assert!(out.contains("pub fn load() -> u8 { 1 }"), "{out}");
        assert!(out.contains("fn user() -> u8 { load() }"), "{out}");
        assert!(out.contains("fn other() -> u8 { loop {}}"), "{out}");
    }

    #[test]
    fn a_cell_declares_its_items_methods_and_imports() {
        let cell = CellItems::parse(
            "use std::fmt::Display;\nstruct Q;\nimpl Q { fn get(&self) -> u8 { 1 } }\n",
        )
        .unwrap();
        let declared = declared_by(&cell).unwrap();
        assert_eq!(declared, names(&["Display", "Q"]));
        let cell = CellItems::parse("impl std::fmt::Display for Q { fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { Ok(()) } }\n").unwrap();
        assert_eq!(declared_by(&cell).unwrap(), names(&["Display", "Q", "fmt"]));
    }

    #[test]
    fn a_cell_with_a_glob_import_declares_what_no_one_can_tell() {
        let glob = CellItems::parse("use std::collections::*;\n").unwrap();
        assert_eq!(declared_by(&glob), None);
    }
}
