//! What one cell defines: its top-level items, found with syn, with where each stands in the
//! cell's text and how evcxr will keep it.
//!
//! evcxr keeps a named item (fn, struct, enum, union, type, trait, const, static, mod,
//! macro_rules) under its name, so defining the name again replaces it. `use` and `extern crate`
//! it tracks itself. Every other item (impl blocks, extern blocks) it attaches to the named item
//! before it in the same cell, or, with none, keeps as an unnamed item forever: the reason a
//! re-run impl cell fails, and what the kernel's anchors (see `ownership`) fix.

use super::dependencies::Idents;
use super::edits::LineIndex;
use quote::ToTokens;
use std::collections::BTreeSet;
use std::ops::Range;

/// A cell's items, in the order they stand.
#[derive(Debug)]
pub struct CellItems {
    pub items: Vec<CellItem>,
    /// `:dep` lines: (crate name as code names it, the whole line).
    pub deps: Vec<(String, String)>,
    /// Bytes of the expression the cell ends in (no semicolon): its result, which evcxr shows.
    pub final_expression: Option<Range<usize>>,
    /// Whether the cell runs anything once built (it decides the build's opt-level).
    pub work: CellWork,
}

/// What loading a cell's build runs of the user's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellWork {
    /// Only items (and commands): they are compiled and kept, nothing of them runs yet.
    DefinesOnly,
    /// Statements or a final expression: they run as soon as the build is loaded.
    RunsStatements,
}

#[derive(Debug)]
pub struct CellItem {
    pub item: syn::Item,
    /// Bytes of the cell the item covers, attributes and doc comments included.
    pub range: Range<usize>,
    pub kind: ItemKind,
    /// The identifiers its text mentions: what it may depend on.
    pub idents: Idents,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    /// An item evcxr keeps by `name`.
    Named { name: String },
    /// `use` / `extern crate`: the names it brings into scope.
    Import { names: Vec<String> },
    /// An item evcxr would keep unnamed: an impl block, an extern block.
    Block(BlockIdentity),
}

/// What an unnamed item is, to tell whether a new one replaces it when no cell id says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockIdentity {
    /// `impl Trait for Type`: one per (generics, trait, type) can exist, so the same triple
    /// always replaces.
    TraitImpl {
        key: String,
        trait_name: String,
        self_name: String,
        defines: BTreeSet<String>,
    },
    /// `impl Type`: replaces an earlier one for the same type that defines any of the same names.
    InherentImpl {
        key: String,
        self_name: String,
        defines: BTreeSet<String>,
    },
    /// Anything else (extern blocks): replaced only by an identical one.
    Other { text: String },
}

impl BlockIdentity {
    /// Whether `self`, newly run, takes the place of the earlier `old`.
    pub fn replaces(&self, old: &BlockIdentity) -> bool {
        match (self, old) {
            (BlockIdentity::TraitImpl { key: a, .. }, BlockIdentity::TraitImpl { key: b, .. }) => {
                a == b
            }
            (
                BlockIdentity::InherentImpl {
                    key: a, defines: x, ..
                },
                BlockIdentity::InherentImpl {
                    key: b, defines: y, ..
                },
            ) => a == b && !x.is_disjoint(y),
            (BlockIdentity::Other { text: a }, BlockIdentity::Other { text: b }) => a == b,
            _ => false,
        }
    }

    /// The type (and trait) names an impl is for: reaching one of them reaches the impl.
    pub fn names(&self) -> Vec<&str> {
        match self {
            BlockIdentity::TraitImpl {
                trait_name,
                self_name,
                ..
            } => vec![trait_name, self_name],
            BlockIdentity::InherentImpl { self_name, .. } => vec![self_name],
            BlockIdentity::Other { .. } => vec![],
        }
    }

    /// The associated items it defines (methods, consts, types): calling one by name reaches it.
    pub fn defines(&self) -> Option<&BTreeSet<String>> {
        match self {
            BlockIdentity::InherentImpl { defines, .. }
            | BlockIdentity::TraitImpl { defines, .. } => Some(defines),
            BlockIdentity::Other { .. } => None,
        }
    }
}

impl CellItems {
    /// The items of `cell`, or `None` when it does not parse as Rust (evcxr then reports the
    /// syntax error in the user's terms). Kernel and evcxr command lines (`:dep …`) are blanked
    /// out first, keeping every offset.
    pub fn parse(cell: &str) -> Option<CellItems> {
        let mut deps = Vec::new();
        let masked: String = cell
            .split_inclusive('\n')
            .map(|line| {
                let trimmed = line.trim();
                if let Some(dep) = trimmed.strip_prefix(":dep ") {
                    if let Some(name) = dep_crate_name(dep) {
                        deps.push((name, trimmed.to_string()));
                    }
                }
                if trimmed.starts_with(':') {
                    line.chars()
                        .map(|c| if c == '\n' { c } else { ' ' })
                        .collect()
                } else {
                    line.to_string()
                }
            })
            .collect();
        let block = syn::parse_str::<syn::Block>(&format!("{{\n{masked}\n}}")).ok()?;
        let lines = LineIndex::new(cell);
        let final_expression = match block.stmts.last() {
            Some(syn::Stmt::Expr(expr, None)) => lines.range_of_tokens(expr.to_token_stream()),
            Some(syn::Stmt::Macro(call)) if call.semi_token.is_none() => {
                lines.range_of_tokens(call.to_token_stream())
            }
            _ => None,
        };
        let work = if block.stmts.iter().all(|s| matches!(s, syn::Stmt::Item(_))) {
            CellWork::DefinesOnly
        } else {
            CellWork::RunsStatements
        };
        let items = block
            .stmts
            .into_iter()
            .filter_map(|stmt| match stmt {
                syn::Stmt::Item(item) => Some(item),
                _ => None,
            })
            .filter_map(|item| {
                let range = lines.range_of_tokens(item.to_token_stream())?;
                let kind = kind_of(&item)?;
                let idents = Idents::of(item.to_token_stream());
                Some(CellItem {
                    item,
                    range,
                    kind,
                    idents,
                })
            })
            .collect();
        Some(CellItems {
            items,
            deps,
            final_expression,
            work,
        })
    }

    /// The first byte of the first line that is Rust code (not a `:` command): where text the
    /// kernel adds goes without moving the user's lines. `None` when every line is a command.
    pub fn first_code_offset(cell: &str) -> Option<usize> {
        let mut offset = 0;
        for line in cell.split_inclusive('\n') {
            if !line.trim_start().starts_with(':') {
                return Some(offset);
            }
            offset += line.len();
        }
        None
    }
}

/// The crate a `:dep` line adds, as code names it (`serde-json` → `serde_json`).
fn dep_crate_name(spec: &str) -> Option<String> {
    let name = spec
        .split(|c: char| c == '=' || c.is_whitespace())
        .find(|part| !part.is_empty())?;
    Some(name.replace('-', "_"))
}

pub(super) fn kind_of(item: &syn::Item) -> Option<ItemKind> {
    let named = |ident: &syn::Ident| {
        Some(ItemKind::Named {
            name: ident.to_string(),
        })
    };
    match item {
        syn::Item::Fn(f) => named(&f.sig.ident),
        syn::Item::Struct(s) => named(&s.ident),
        syn::Item::Enum(e) => named(&e.ident),
        syn::Item::Union(u) => named(&u.ident),
        syn::Item::Type(t) => named(&t.ident),
        syn::Item::Trait(t) => named(&t.ident),
        syn::Item::TraitAlias(t) => named(&t.ident),
        syn::Item::Const(c) => named(&c.ident),
        syn::Item::Static(s) => named(&s.ident),
        syn::Item::Mod(m) => named(&m.ident),
        syn::Item::Macro(m) => match &m.ident {
            Some(ident) => named(ident),
            // A macro call at the top of a cell: evcxr runs it as a statement.
            None => None,
        },
        syn::Item::Use(u) => Some(ItemKind::Import {
            names: use_names(&u.tree),
        }),
        syn::Item::ExternCrate(e) => Some(ItemKind::Import {
            names: vec![e
                .rename
                .as_ref()
                .map(|(_, ident)| ident)
                .unwrap_or(&e.ident)
                .to_string()],
        }),
        syn::Item::Impl(block) => Some(ItemKind::Block(impl_identity(block))),
        other => Some(ItemKind::Block(BlockIdentity::Other {
            text: other.to_token_stream().to_string(),
        })),
    }
}

/// The names of the functions, consts and types an impl block defines.
pub(super) fn associated_names(block: &syn::ItemImpl) -> BTreeSet<String> {
    block
        .items
        .iter()
        .filter_map(|item| match item {
            syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
            syn::ImplItem::Const(c) => Some(c.ident.to_string()),
            syn::ImplItem::Type(t) => Some(t.ident.to_string()),
            _ => None,
        })
        .collect()
}

fn impl_identity(block: &syn::ItemImpl) -> BlockIdentity {
    let text = |tokens: &dyn ToTokens| tokens.to_token_stream().to_string();
    let self_name = type_name(&block.self_ty);
    let defines = associated_names(block);
    match &block.trait_ {
        Some((path, _)) => BlockIdentity::TraitImpl {
            key: format!(
                "impl {} {}{} for {}",
                text(&block.generics),
                if block.modifiers.polarity.is_some() {
                    "!"
                } else {
                    ""
                },
                text(path),
                text(&block.self_ty)
            ),
            trait_name: path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default(),
            self_name,
            defines,
        },
        None => BlockIdentity::InherentImpl {
            key: format!("impl {} {}", text(&block.generics), text(&block.self_ty)),
            self_name,
            defines,
        },
    }
}

/// The name of the type an impl is for: `Frame` in `impl Display for Frame<T>`.
pub(super) fn type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        syn::Type::Reference(r) => type_name(&r.elem),
        syn::Type::Paren(p) => type_name(&p.elem),
        other => other.to_token_stream().to_string(),
    }
}

/// The names a `use` tree brings into scope (globs bring none by name).
fn use_names(tree: &syn::UseTree) -> Vec<String> {
    match tree {
        syn::UseTree::Path(p) => use_names(&p.tree),
        syn::UseTree::Name(n) => vec![n.ident.to_string()],
        syn::UseTree::Rename(r) => vec![r.rename.to_string()],
        syn::UseTree::Glob(_) => vec![],
        syn::UseTree::Group(g) => g.items.iter().flat_map(use_names).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(cell: &str) -> Vec<ItemKind> {
        CellItems::parse(cell)
            .unwrap()
            .items
            .into_iter()
            .map(|i| i.kind)
            .collect()
    }

    #[test]
    fn items_are_named_imports_or_blocks() {
        let cell = ":dep rand = \"0.8\"\nuse std::fmt::{self, Display as Show};\nstruct Q { x: i32 }\nimpl Q { fn get(&self) -> i32 { self.x } const N: u8 = 1; }\nimpl<T> Show for Q {}\nmacro_rules! sq { ($x:expr) => { $x * $x } }\nlet q = Q { x: 1 };";
        let kinds = kinds(cell);
        assert_eq!(kinds.len(), 5, "{kinds:?}");
        assert_eq!(
            kinds[0],
            ItemKind::Import {
                names: vec!["self".into(), "Show".into()]
            }
        );
        assert_eq!(kinds[1], ItemKind::Named { name: "Q".into() });
        match &kinds[2] {
            ItemKind::Block(BlockIdentity::InherentImpl {
                self_name, defines, ..
            }) => {
                assert_eq!(self_name, "Q");
                assert_eq!(defines.iter().collect::<Vec<_>>(), ["N", "get"]);
            }
            other => panic!("{other:?}"),
        }
        match &kinds[3] {
            ItemKind::Block(BlockIdentity::TraitImpl {
                trait_name,
                self_name,
                ..
            }) => assert_eq!((trait_name.as_str(), self_name.as_str()), ("Show", "Q")),
            other => panic!("{other:?}"),
        }
        assert_eq!(kinds[4], ItemKind::Named { name: "sq".into() });
        let deps = CellItems::parse(cell).unwrap().deps;
        assert_eq!(deps, vec![("rand".into(), ":dep rand = \"0.8\"".into())]);
    }

    #[test]
    fn a_cell_of_items_and_commands_runs_nothing() {
        let work = |cell: &str| CellItems::parse(cell).unwrap().work;
        assert_eq!(
            work(":dep rand = \"0.8\"\n#[derive(Debug)]\nstruct P;\nimpl P { fn f() { loop {} } }"),
            CellWork::DefinesOnly
        );
        assert_eq!(work("fn f() {}\nf();"), CellWork::RunsStatements);
        assert_eq!(work("let a = 1;"), CellWork::RunsStatements);
        assert_eq!(work("println!(\"x\")"), CellWork::RunsStatements);
        assert_eq!(work("fn f() -> u8 { 1 }\nf()"), CellWork::RunsStatements);
    }

    #[test]
    fn ranges_cover_attributes_and_stand_where_the_item_does() {
        let cell = "let a = 1;\n/// Doc.\n#[derive(Clone)]\nstruct P;\nimpl P { fn f() {} }";
        let parsed = CellItems::parse(cell).unwrap();
        assert_eq!(
            &cell[parsed.items[0].range.clone()],
            "/// Doc.\n#[derive(Clone)]\nstruct P;"
        );
        assert_eq!(&cell[parsed.items[1].range.clone()], "impl P { fn f() {} }");
    }

    #[test]
    fn an_inherent_impl_replaces_one_defining_a_same_name() {
        let identity = |cell: &str| match &kinds(cell)[0] {
            ItemKind::Block(identity) => identity.clone(),
            other => panic!("{other:?}"),
        };
        let get = identity("impl Q { fn get(&self) {} }");
        let get_and_set = identity("impl Q { fn get(&self) {} fn set(&self) {} }");
        let other = identity("impl Q { fn len(&self) {} }");
        let other_type = identity("impl R { fn get(&self) {} }");
        assert!(get_and_set.replaces(&get));
        assert!(!other.replaces(&get));
        assert!(!other_type.replaces(&get));
        let display = identity("impl std::fmt::Display for Q { fn fmt(&self) {} }");
        let display_edited = identity("impl std::fmt::Display for Q { fn fmt(&self) { 1; } }");
        let debug = identity("impl std::fmt::Debug for Q { fn fmt(&self) {} }");
        assert!(display_edited.replaces(&display));
        assert!(!debug.replaces(&display));
    }

    #[test]
    fn cells_that_do_not_parse_have_no_items() {
        assert!(CellItems::parse("let x = (;").is_none());
        assert_eq!(
            CellItems::first_code_offset(":dep a\n:dep b\nlet x = 1;"),
            Some(14)
        );
        assert_eq!(CellItems::first_code_offset(":dep a"), None);
    }
}
