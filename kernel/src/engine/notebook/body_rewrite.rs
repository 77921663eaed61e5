//! How a cell's build leaves code out: a function's body, or the serde impls of a type.
//!
//! What to leave out is decided elsewhere: `unchanged_bodies` for a cell of items, whose build
//! is only checked, and `unreached_serde` for a cell that runs. This module makes the edits, the
//! same way for both. Every line stays where it was, so rustc's diagnostics map back to the
//! cells as evcxr expects: a body keeps its line breaks, and the impls that take the place of
//! derives go after the last line.

use super::dependencies::Idents;
use super::edits::{self, Edit, LineIndex};
use proc_macro2::{LineColumn, TokenStream};
use quote::ToTokens;
use std::collections::BTreeMap;
use std::ops::Range;

/// Attributes a function (or its impl block) may carry and still have its body left out: none
/// of them reads it. An attribute macro (`#[tokio::main]`, `#[async_trait]`) would.
const INERT_ATTRIBUTES: [&str; 13] = [
    "doc",
    "allow",
    "warn",
    "deny",
    "expect",
    "inline",
    "cold",
    "must_use",
    "track_caller",
    "deprecated",
    "no_mangle",
    "unsafe",
    "export_name",
];

/// What a left-out body becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// `loop {}`, the cheapest body of any type: for a build that is only checked.
    Loop,
    /// A panic that names what was left out: for a build that runs. Reaching it would be the
    /// kernel's mistake, which must say so rather than hang the cell.
    Panic,
}

impl Placeholder {
    /// The body's code, `what` naming what it stands for.
    fn code(self, what: &str) -> String {
        match self {
            Placeholder::Loop => "loop {}".to_string(),
            Placeholder::Panic => format!(
                "::core::panic!(\"cellar left {what} out of this cell's build, which was not to reach it: please report this\")"
            ),
        }
    }
}

/// The edits that leave bodies and serde impls out, and the impls that take their place.
pub struct Rewrite {
    edits: Vec<Edit>,
    appended: String,
    placeholder: Placeholder,
    /// The names the crate's top-level `use` items give serde's traits (`Serialize`, `De`…).
    serde_imports: BTreeMap<String, SerdeTrait>,
}

impl Rewrite {
    /// A rewrite of the crate whose top-level items are `items`.
    pub fn new(placeholder: Placeholder, items: &[syn::Item]) -> Rewrite {
        let mut serde_imports = BTreeMap::new();
        for item in items {
            if let syn::Item::Use(import) = item {
                if let syn::UseTree::Path(path) = &import.tree {
                    if path.ident == "serde" {
                        serde_names(&path.tree, &mut serde_imports);
                    }
                }
            }
        }
        Rewrite {
            edits: Vec::new(),
            appended: String::new(),
            placeholder,
            serde_imports,
        }
    }

    /// Adds edits made elsewhere (`untouched_variables`); they must not overlap these.
    pub fn extend(&mut self, edits: impl IntoIterator<Item = Edit>) {
        self.edits.extend(edits);
    }

    /// `source` with the edits made, or `None` when nothing was left out.
    pub fn apply(self, source: &str) -> Option<String> {
        if self.edits.is_empty() {
            return None;
        }
        let mut text = edits::apply(source, self.edits).ok()?.text;
        text.push_str(&self.appended);
        Some(text)
    }

    /// Leaves out an item's function bodies and its serde impls, where nothing else reads them.
    pub fn item(&mut self, item: &syn::Item, lines: &LineIndex) -> Option<()> {
        match item {
            syn::Item::Fn(f) => self.function(&f.attrs, &f.sig, &f.block, item, lines),
            syn::Item::Impl(block) if block.attrs.iter().all(is_inert) => {
                for inner in &block.items {
                    if let syn::ImplItem::Fn(f) = inner {
                        self.function(&f.attrs, &f.sig, &f.block, inner, lines)?;
                    }
                }
                Some(())
            }
            syn::Item::Mod(m) => {
                for inner in m.content.iter().flat_map(|(_, items)| items) {
                    self.item(inner, lines)?;
                }
                Some(())
            }
            syn::Item::Struct(_) | syn::Item::Enum(_) => self.type_serde_impls(item, lines),
            _ => Some(()),
        }
    }

    /// Leaves out the serde impls a type derives: a type without generics, and without an
    /// attribute macro, which would read the derives (`#[serde_as]`).
    pub fn type_serde_impls(&mut self, item: &syn::Item, lines: &LineIndex) -> Option<()> {
        match item {
            syn::Item::Struct(s)
                if s.generics.params.is_empty() && s.attrs.iter().all(is_type_inert) =>
            {
                let mut helpers: Vec<&syn::Attribute> = s.attrs.iter().collect();
                helpers.extend(s.fields.iter().flat_map(|field| &field.attrs));
                self.serde_derives(&s.attrs, &s.ident, helpers, lines)
            }
            syn::Item::Enum(e)
                if e.generics.params.is_empty() && e.attrs.iter().all(is_type_inert) =>
            {
                let mut helpers: Vec<&syn::Attribute> = e.attrs.iter().collect();
                for variant in &e.variants {
                    helpers.extend(&variant.attrs);
                    helpers.extend(variant.fields.iter().flat_map(|field| &field.attrs));
                }
                self.serde_derives(&e.attrs, &e.ident, helpers, lines)
            }
            _ => Some(()),
        }
    }

    /// Leaves out a function's body, when nothing about the function reads it.
    fn function(
        &mut self,
        attrs: &[syn::Attribute],
        sig: &syn::Signature,
        block: &syn::Block,
        whole: &dyn ToTokens,
        lines: &LineIndex,
    ) -> Option<()> {
        // An `impl Trait` return type needs the body's type; an impl block in the body counts
        // for the whole crate.
        let has_impl = |tokens: TokenStream| Idents::of(tokens).0.contains("impl");
        if sig.constness.is_some()
            || has_impl(sig.output.to_token_stream())
            || has_impl(block.to_token_stream())
            || !attrs.iter().all(is_inert)
        {
            return Some(());
        }
        let start = offset(lines, first_position(whole.to_token_stream())?)?;
        let braces = &block.brace_token.span;
        let body = offset(lines, braces.open().start())?..offset(lines, braces.close().end())?;
        // Its parameters are unused now; the check must not warn about them.
        self.edits
            .push(Edit::insert(start, "#[allow(unused_variables)] "));
        self.edits.push(Edit {
            text: format!(
                "{{ {}{}}}",
                self.placeholder
                    .code(&format!("the body of `{}`", sig.ident)),
                line_breaks(lines, &body)
            ),
            range: body,
        });
        Some(())
    }

    /// Replaces the derived `Serialize` and `Deserialize` of a type by impls without bodies, and
    /// blanks its `#[serde(…)]` attributes, which only the derives read.
    fn serde_derives(
        &mut self,
        attrs: &[syn::Attribute],
        name: &syn::Ident,
        helpers: Vec<&syn::Attribute>,
        lines: &LineIndex,
    ) -> Option<()> {
        let mut derive_edits = Vec::new();
        let mut impls = String::new();
        for attr in attrs.iter().filter(|attr| attr.path().is_ident("derive")) {
            let Some(paths) = derive_paths(attr) else {
                return Some(());
            };
            let (serde, kept): (Vec<_>, Vec<_>) = paths
                .iter()
                .map(|path| (path, self.serde_trait(path)))
                .partition(|(_, serde_trait)| serde_trait.is_some());
            if serde.is_empty() {
                continue;
            }
            for (path, serde_trait) in serde {
                let path_text = path.to_token_stream().to_string();
                let serde_trait = serde_trait?;
                let body = self
                    .placeholder
                    .code(&format!("the `{serde_trait:?}` impl of `{name}`"));
                impls.push_str(&match serde_trait {
                    SerdeTrait::Serialize => format!(
                        "impl {path_text} for {name} {{ fn serialize<CellarS: ::serde::Serializer>(&self, _: CellarS) -> ::core::result::Result<CellarS::Ok, CellarS::Error> {{ {body} }} }}\n"
                    ),
                    SerdeTrait::Deserialize => format!(
                        "impl<'de> {path_text}<'de> for {name} {{ fn deserialize<CellarD: ::serde::Deserializer<'de>>(_: CellarD) -> ::core::result::Result<Self, CellarD::Error> {{ {body} }} }}\n"
                    ),
                });
            }
            let range = tokens_range(lines, attr.to_token_stream())?;
            let kept = kept
                .iter()
                .map(|(path, _)| path.to_token_stream().to_string())
                .collect::<Vec<_>>();
            let derive = if kept.is_empty() {
                String::new()
            } else {
                format!("#[derive({})]", kept.join(", "))
            };
            derive_edits.push(Edit {
                text: derive + &line_breaks(lines, &range),
                range,
            });
        }
        if derive_edits.is_empty() {
            return Some(());
        }
        for helper in helpers
            .into_iter()
            .filter(|attr| attr.path().is_ident("serde"))
        {
            let range = tokens_range(lines, helper.to_token_stream())?;
            derive_edits.push(Edit {
                text: line_breaks(lines, &range),
                range,
            });
        }
        self.edits.extend(derive_edits);
        self.appended.push('\n');
        self.appended.push_str(&impls);
        Some(())
    }

    /// Which serde trait a derive names: `serde::Serialize`, or a name a `use` gave it.
    fn serde_trait(&self, path: &syn::Path) -> Option<SerdeTrait> {
        let segments: Vec<String> = path
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect();
        match segments.as_slice() {
            [name] => self.serde_imports.get(name).copied(),
            [krate, name] if krate == "serde" => SerdeTrait::named(name),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerdeTrait {
    Serialize,
    Deserialize,
}

impl SerdeTrait {
    fn named(name: &str) -> Option<SerdeTrait> {
        match name {
            "Serialize" => Some(SerdeTrait::Serialize),
            "Deserialize" => Some(SerdeTrait::Deserialize),
            _ => None,
        }
    }
}

/// The names a `use serde::…` tree gives serde's traits.
fn serde_names(tree: &syn::UseTree, names: &mut BTreeMap<String, SerdeTrait>) {
    match tree {
        syn::UseTree::Name(name) => {
            let name = name.ident.to_string();
            if let Some(serde_trait) = SerdeTrait::named(&name) {
                names.insert(name, serde_trait);
            }
        }
        syn::UseTree::Rename(rename) => {
            if let Some(serde_trait) = SerdeTrait::named(&rename.ident.to_string()) {
                names.insert(rename.rename.to_string(), serde_trait);
            }
        }
        syn::UseTree::Glob(_) => {
            for serde_trait in [SerdeTrait::Serialize, SerdeTrait::Deserialize] {
                names.insert(format!("{serde_trait:?}"), serde_trait);
            }
        }
        syn::UseTree::Group(group) => {
            for tree in &group.items {
                serde_names(tree, names);
            }
        }
        syn::UseTree::Path(_) => {}
    }
}

/// The paths a `#[derive(…)]` names; `None` when they cannot be read.
pub fn derive_paths(
    attr: &syn::Attribute,
) -> Option<syn::punctuated::Punctuated<syn::Path, syn::Token![,]>> {
    attr.parse_args_with(syn::punctuated::Punctuated::parse_terminated)
        .ok()
}

pub fn is_inert(attr: &syn::Attribute) -> bool {
    is_named_one_of(attr, &INERT_ATTRIBUTES)
}

/// Attributes a type may carry besides the inert ones and still have its serde derives
/// replaced: an attribute macro on it (`#[serde_as]`) reads them, and would see them gone.
const TYPE_ATTRIBUTES: [&str; 4] = ["derive", "serde", "repr", "non_exhaustive"];

pub fn is_type_inert(attr: &syn::Attribute) -> bool {
    is_inert(attr) || is_named_one_of(attr, &TYPE_ATTRIBUTES)
}

/// Whether the attribute's path is a single name among `names`.
fn is_named_one_of(attr: &syn::Attribute, names: &[&str]) -> bool {
    attr.path()
        .get_ident()
        .is_some_and(|ident| names.contains(&ident.to_string().as_str()))
}

/// The line breaks of `range` in the text: what keeps the lines after it in place.
fn line_breaks(lines: &LineIndex, range: &Range<usize>) -> String {
    "\n".repeat(lines.text()[range.clone()].matches('\n').count())
}

fn first_position(tokens: TokenStream) -> Option<LineColumn> {
    Some(tokens.into_iter().next()?.span().start())
}

/// Where a token of a whole parsed file stands: lines count from 1, columns chars from 0.
fn offset(lines: &LineIndex, position: LineColumn) -> Option<usize> {
    lines.at(position.line.checked_sub(1)?, position.column)
}

fn tokens_range(lines: &LineIndex, tokens: TokenStream) -> Option<Range<usize>> {
    let start = first_position(tokens.clone())?;
    let end = tokens.into_iter().last()?.span().end();
    Some(offset(lines, start)?..offset(lines, end)?)
}
