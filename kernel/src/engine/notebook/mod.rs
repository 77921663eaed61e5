//! The kernel's model of the notebook: what each cell defined, and the source evcxr is given.
//!
//! Before a cell goes to evcxr, [`Notebook::prepare`] reads its items, decides which earlier
//! items it replaces or removes (`ownership`), expands its cache attributes (`expansion`) with
//! keys that cover the notebook code each cached function reaches (`dependencies`), re-sends
//! cached functions whose reachable code changed in this cell, and applies all of it as edits
//! to the cell's text (`edits`), keeping a map back to what the user wrote for diagnostics.
//! The result carries the model as it will be once the cell has run; the engine keeps it only
//! when evcxr accepted the cell, as evcxr itself keeps its state only then.

mod body_rewrite;
mod cell_code;
mod cell_items;
mod dependencies;
mod edits;
mod expansion;
mod ownership;
mod result_display;
mod unchanged_bodies;
mod unreached_serde;
mod untouched_variables;

pub use cell_code::StoreLine;
pub use cell_items::CellWork;
use cell_items::{BlockIdentity, CellItems, ItemKind};
use cellar_codegen::Layout;
use dependencies::{CodeIndex, Idents, Reached};
use edits::Edit;
pub use edits::{LineIndex, SourceMap};
use ownership::{anchor, anchor_name, free_name, tombstone, Owner};
use quote::ToTokens;
pub use result_display::{changes_formatting, ResultDisplay, SHOW_METHOD};
use std::collections::{BTreeMap, BTreeSet};
pub use unchanged_bodies::leave_out as leave_out_unchanged_bodies;

/// The cell crate `source` of a cell that runs, with what its build cannot reach left out: the
/// variables its code does not touch (`untouched_variables`), and the serde impls it cannot
/// reach from them and from what the cell `declares`, when the kernel could tell
/// (`unreached_serde`); `None` when nothing is left out.
pub fn leave_out_of_a_run(source: &str, declares: Option<&BTreeSet<String>>) -> Option<String> {
    let file = syn::parse_file(source).ok()?;
    let code = cell_code::CellCode::of(&file)?;
    let lines = LineIndex::new(source);
    let mut rewrite = body_rewrite::Rewrite::new(body_rewrite::Placeholder::Panic, &file.items);
    rewrite.extend(untouched_variables::edits(&lines, &code));
    if let Some(declares) = declares {
        unreached_serde::leave_out(&file, &code, declares, &lines, &mut rewrite)?;
    }
    rewrite.apply(source)
}

/// A cell as the engine gets it from the handler.
#[derive(Debug, Clone, Copy)]
pub struct CellSource<'a> {
    pub code: &'a str,
    /// JupyterLab's `metadata.cellId`; other clients send none.
    pub cell_id: Option<&'a str>,
    /// JupyterLab's `metadata.deletedCells`: cells deleted or cut since the last execute.
    pub deleted_cells: &'a [String],
    /// Who shows the cell's final expression, as the engine would have it.
    pub display: ResultDisplay,
}

/// The source for evcxr, the map back to the user's text, and the model once the cell ran.
pub struct Prepared {
    pub source: String,
    pub map: SourceMap,
    pub notebook: Notebook,
    /// Who shows the final expression in `source`.
    pub display: ResultDisplay,
    /// Whether `source` runs anything once built (a cell that does not parse is taken to).
    pub work: CellWork,
    /// The names `source` declares, when they can be told. The check of a cell of items leaves
    /// out what cannot fail through them (`unchanged_bodies`); the build of a cell that runs
    /// keeps the serde impls they reach (`unreached_serde`).
    pub declares: Option<BTreeSet<String>>,
}

/// Why a cell could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("{0}")]
    CacheAttribute(#[from] syn::Error),
    #[error("cellar could not rewrite this cell: {0}")]
    Splice(#[from] edits::EditError),
}

/// What the kernel knows of the notebook's items.
#[derive(Debug, Clone, Default)]
pub struct Notebook {
    /// Named items by the name the user gave them.
    items: BTreeMap<String, NamedItem>,
    /// Impl and extern blocks by the anchor that carries them in evcxr.
    blocks: BTreeMap<String, Block>,
    /// `use` items by the name they bring in.
    imports: BTreeMap<String, Piece>,
    /// `:dep` crates by the name code uses; the text is the whole `:dep` line.
    deps: BTreeMap<String, Piece>,
    next_anchor: u64,
}

/// A piece of notebook code: its text (as tokens) and the names it mentions.
#[derive(Debug, Clone)]
struct Piece {
    text: String,
    idents: Idents,
}

#[derive(Debug, Clone)]
struct NamedItem {
    piece: Piece,
    /// The name evcxr keeps it under: a cached function lives in `mod __cellar_NAME`.
    evcxr_name: String,
    /// Names declared inside it (a module's items, a trait's methods): reaching one reaches it.
    declares: BTreeSet<String>,
    owner: Owner,
    /// A cached function, and the salt of the expansion evcxr has now.
    cached: Option<(syn::ItemFn, Option<String>)>,
}

#[derive(Debug, Clone)]
struct Block {
    piece: Piece,
    identity: BlockIdentity,
    owner: Owner,
    /// An impl with cached methods, and the salts of the expansion evcxr has now.
    cached: Option<(syn::ItemImpl, Vec<Option<String>>)>,
}

impl Notebook {
    /// Prepares `cell` for evcxr. A cell that does not parse is sent as it is, so evcxr reports
    /// the syntax error in the user's own terms.
    pub fn prepare(&self, cell: CellSource<'_>) -> Result<Prepared, PrepareError> {
        let Some(parsed) = CellItems::parse(cell.code) else {
            return Ok(Prepared {
                source: cell.code.to_string(),
                map: SourceMap::default(),
                notebook: self.clone(),
                display: ResultDisplay::Evcxr,
                work: CellWork::RunsStatements,
                declares: None,
            });
        };
        let mut next = self.clone();
        let owner = Owner::from_cell(cell.cell_id);
        let mut removals = Vec::new();
        let mut edits = Vec::new();
        let defined: BTreeSet<String> = parsed
            .items
            .iter()
            .filter_map(|item| match &item.kind {
                ItemKind::Named { name } => Some(name.clone()),
                _ => None,
            })
            .collect();

        for deleted in cell.deleted_cells {
            if cell.cell_id != Some(deleted.as_str()) {
                next.remove_owned_by(deleted, &defined, &BTreeSet::new(), &mut removals);
            }
        }

        let mut anchors_now = BTreeSet::new();
        let mut cell_anchors = Vec::with_capacity(parsed.items.len());
        for item in &parsed.items {
            let piece = Piece {
                text: item.item.to_token_stream().to_string(),
                idents: item.idents.clone(),
            };
            let mut anchor_of_item = None;
            match &item.kind {
                ItemKind::Named { name } => {
                    let cached = match &item.item {
                        syn::Item::Fn(f) if expansion::is_cached(&f.attrs) => {
                            Some((f.clone(), None))
                        }
                        _ => None,
                    };
                    let evcxr_name = match cached {
                        Some(_) => format!("__cellar_{name}"),
                        None => name.clone(),
                    };
                    if let Some(old) = next.items.get(name) {
                        if old.evcxr_name == *name && evcxr_name != *name {
                            removals.push(free_name(name));
                        } else if old.evcxr_name != evcxr_name {
                            removals.push(tombstone(&old.evcxr_name));
                        }
                    }
                    next.items.insert(
                        name.clone(),
                        NamedItem {
                            piece,
                            evcxr_name,
                            declares: declared_names(&item.item),
                            owner: owner.clone(),
                            cached,
                        },
                    );
                }
                ItemKind::Import { names } => {
                    for name in names {
                        next.imports.insert(name.clone(), piece.clone());
                    }
                }
                ItemKind::Block(identity) => {
                    let replaced = keys_where(&next.blocks, |name, old| {
                        !anchors_now.contains(name) && identity.replaces(&old.identity)
                    });
                    let name = match replaced.first() {
                        Some(name) => name.clone(),
                        None => next.new_anchor(),
                    };
                    for other in replaced.iter().skip(1) {
                        next.blocks.remove(other);
                        removals.push(anchor(other));
                    }
                    let cached = match &item.item {
                        syn::Item::Impl(block) if has_cached_methods(block) => {
                            Some((block.clone(), Vec::new()))
                        }
                        _ => None,
                    };
                    next.blocks.insert(
                        name.clone(),
                        Block {
                            piece,
                            identity: identity.clone(),
                            owner: owner.clone(),
                            cached,
                        },
                    );
                    edits.push(Edit::insert(
                        item.range.start,
                        format!("{} ", anchor(&name)),
                    ));
                    anchors_now.insert(name.clone());
                    anchor_of_item = Some(name);
                }
            }
            cell_anchors.push(anchor_of_item);
        }

        if let Owner::Cell(id) = &owner {
            next.remove_owned_by(id, &defined, &anchors_now, &mut removals);
        }
        for (name, line) in &parsed.deps {
            next.deps.insert(
                name.clone(),
                Piece {
                    text: line.clone(),
                    idents: Idents::default(),
                },
            );
        }

        // Cached functions and methods of this cell, keyed by what they reach now.
        let lines = LineIndex::new(cell.code);
        for (item, anchor_name) in parsed.items.iter().zip(&cell_anchors) {
            match &item.item {
                syn::Item::Fn(function) if expansion::is_cached(&function.attrs) => {
                    let salt = next.salt_of(&item.idents);
                    edits.extend(expansion::expand_in_place(
                        cell.code,
                        item.range.clone(),
                        body_start(&lines, &function.block)?,
                        function,
                        salt.as_deref(),
                        Layout::Notebook,
                    )?);
                    let name = function.sig.ident.to_string();
                    if let Some(entry) = next.items.get_mut(&name) {
                        entry.cached = Some((function.clone(), salt));
                    }
                }
                syn::Item::Impl(block) if has_cached_methods(block) => {
                    let mut salts = Vec::new();
                    for method in cached_methods(block) {
                        let salt = next.method_salt(block, method);
                        let function = expansion::method_as_fn(method);
                        let range = lines
                            .range_of_tokens(method.to_token_stream())
                            .ok_or_else(|| not_located(&method.sig.ident))?;
                        edits.extend(expansion::expand_in_place(
                            cell.code,
                            range,
                            body_start(&lines, &method.block)?,
                            &function,
                            salt.as_deref(),
                            Layout::Crate,
                        )?);
                        salts.push(salt);
                    }
                    if let Some(block_entry) =
                        anchor_name.as_ref().and_then(|a| next.blocks.get_mut(a))
                    {
                        block_entry.cached = Some((block.clone(), salts));
                    }
                }
                _ => {}
            }
        }

        let display = match (cell.display, &parsed.final_expression) {
            (ResultDisplay::Kernel, Some(range)) if !next.defines_method(SHOW_METHOD) => {
                edits.extend(result_display::edits(range.clone()));
                ResultDisplay::Kernel
            }
            _ => ResultDisplay::Evcxr,
        };

        let mut prefix = removals;
        prefix.extend(next.resend_stale(&defined, &anchors_now)?);
        if !prefix.is_empty() {
            let prefix = prefix.join(" ");
            // Text the kernel adds goes on the first code line, so the user's lines keep their
            // numbers; a cell of only commands gets it on a line of its own after them.
            let edit = match CellItems::first_code_offset(cell.code) {
                Some(at) => Edit::insert(at, format!("{prefix} ")),
                None => Edit::insert(cell.code.len(), format!("\n{prefix}")),
            };
            edits.insert(0, edit);
        }
        let edited = edits::apply(cell.code, edits)?;
        let declares =
            CellItems::parse(&edited.text).and_then(|sent| unchanged_bodies::declared_by(&sent));
        Ok(Prepared {
            source: edited.text,
            map: edited.map,
            notebook: next,
            display,
            work: parsed.work,
            declares,
        })
    }

    /// For `:cellar`: each cached function and the notebook items its key covers.
    pub fn key_coverage(&self) -> Vec<(String, Vec<String>)> {
        self.items
            .iter()
            .filter(|(_, item)| item.cached.is_some())
            .map(|(name, item)| {
                let reached = dependencies::closure(self, &item.piece.idents);
                let mut covered: Vec<String> = reached
                    .keys()
                    .filter_map(|piece| self.describe(*piece))
                    .filter(|label| label != name)
                    .collect();
                covered.sort();
                covered.dedup();
                (name.clone(), covered)
            })
            .collect()
    }

    fn describe(&self, piece: Reached<'_>) -> Option<String> {
        Some(match piece {
            Reached::Item(name) => name.to_string(),
            Reached::Block(anchor) => {
                let block = self.blocks.get(anchor)?;
                match &block.identity {
                    BlockIdentity::TraitImpl {
                        trait_name,
                        self_name,
                        ..
                    } => format!("impl {trait_name} for {self_name}"),
                    BlockIdentity::InherentImpl { self_name, .. } => format!("impl {self_name}"),
                    BlockIdentity::Other { .. } => "extern block".to_string(),
                }
            }
            Reached::Import(name) => format!("use {name}"),
            Reached::Dep(name) => format!(":dep {name}"),
        })
    }

    /// Whether a notebook impl block defines a method or associated item called `name`.
    fn defines_method(&self, name: &str) -> bool {
        self.blocks.values().any(|block| {
            block
                .identity
                .defines()
                .is_some_and(|defines| defines.contains(name))
        })
    }

    fn new_anchor(&mut self) -> String {
        self.next_anchor += 1;
        anchor_name(self.next_anchor)
    }

    /// Removes what cell `id` owns, but for the names it `keeps` defining and the anchors it
    /// keeps using, and writes the text that removes each from evcxr into `removals`.
    fn remove_owned_by(
        &mut self,
        id: &str,
        keeps: &BTreeSet<String>,
        keeps_anchors: &BTreeSet<String>,
        removals: &mut Vec<String>,
    ) {
        let blocks = keys_where(&self.blocks, |name, block| {
            block.owner.is_cell(id) && !keeps_anchors.contains(name)
        });
        for name in blocks {
            self.blocks.remove(&name);
            removals.push(anchor(&name));
        }
        let items = keys_where(&self.items, |name, item| {
            item.owner.is_cell(id) && !keeps.contains(name)
        });
        for name in items {
            if let Some(item) = self.items.remove(&name) {
                removals.push(tombstone(&item.evcxr_name));
            }
        }
    }

    /// The salt of a cached function's key: the notebook code its text reaches.
    fn salt_of(&self, roots: &Idents) -> Option<String> {
        dependencies::salt(&dependencies::closure(self, roots))
    }

    /// A cached method reaches what its own text does, and its type (with that type's impls).
    fn method_salt(&self, block: &syn::ItemImpl, method: &syn::ImplItemFn) -> Option<String> {
        let mut roots = Idents::of(method.to_token_stream());
        roots
            .0
            .extend(Idents::of(block.self_ty.to_token_stream()).0);
        self.salt_of(&roots)
    }

    /// The expansions of cached functions and impls from other cells whose reachable code
    /// changed: sent with this cell so their keys follow the code.
    fn resend_stale(
        &mut self,
        defined: &BTreeSet<String>,
        anchors_now: &BTreeSet<String>,
    ) -> Result<Vec<String>, PrepareError> {
        let mut out = Vec::new();
        let names = keys_where(&self.items, |name, item| {
            item.cached.is_some() && !defined.contains(name)
        });
        for name in names {
            let item = &self.items[&name];
            let (function, old_salt) = item.cached.clone().expect("filtered");
            let salt = self.salt_of(&item.piece.idents);
            if salt != old_salt {
                let expanded = expansion::expand(&function, salt.as_deref(), Layout::Notebook)?
                    .expect("a cached function");
                out.push(expanded.to_string());
                self.items.get_mut(&name).expect("listed").cached = Some((function, salt));
            }
        }
        let anchors = keys_where(&self.blocks, |name, block| {
            block.cached.is_some() && !anchors_now.contains(name)
        });
        for name in anchors {
            let (block, old_salts) = self.blocks[&name].cached.clone().expect("filtered");
            let salts: Vec<Option<String>> = cached_methods(&block)
                .map(|method| self.method_salt(&block, method))
                .collect();
            if salts != old_salts {
                let text = expansion::expand_impl(&block, &salts)?;
                out.push(format!("{} {text}", anchor(&name)));
                self.blocks.get_mut(&name).expect("listed").cached = Some((block, salts));
            }
        }
        Ok(out)
    }
}

impl CodeIndex for Notebook {
    fn reached_by(&self, name: &str) -> Vec<Reached<'_>> {
        let mut out = Vec::new();
        if let Some((key, _)) = self.items.get_key_value(name) {
            out.push(Reached::Item(key));
        }
        out.extend(
            self.items
                .iter()
                .filter(|(_, item)| item.declares.contains(name))
                .map(|(key, _)| Reached::Item(key)),
        );
        out.extend(
            self.blocks
                .iter()
                .filter(|(_, block)| {
                    block.identity.names().contains(&name)
                        || block
                            .identity
                            .defines()
                            .is_some_and(|defines| defines.contains(name))
                })
                .map(|(key, _)| Reached::Block(key)),
        );
        if let Some((key, _)) = self.imports.get_key_value(name) {
            out.push(Reached::Import(key));
        }
        if let Some((key, _)) = self.deps.get_key_value(name) {
            out.push(Reached::Dep(key));
        }
        out
    }

    fn text_and_idents(&self, piece: Reached<'_>) -> Option<(&str, &Idents)> {
        let piece = match piece {
            Reached::Item(name) => &self.items.get(name)?.piece,
            Reached::Block(anchor) => &self.blocks.get(anchor)?.piece,
            Reached::Import(name) => self.imports.get(name)?,
            Reached::Dep(name) => self.deps.get(name)?,
        };
        Some((&piece.text, &piece.idents))
    }
}

/// The keys of the entries that `keep` picks, in order: what a loop that changes the map visits.
fn keys_where<V>(map: &BTreeMap<String, V>, keep: impl Fn(&str, &V) -> bool) -> Vec<String> {
    map.iter()
        .filter(|(name, value)| keep(name, value))
        .map(|(name, _)| name.clone())
        .collect()
}

fn has_cached_methods(block: &syn::ItemImpl) -> bool {
    cached_methods(block).next().is_some()
}

fn cached_methods(block: &syn::ItemImpl) -> impl Iterator<Item = &syn::ImplItemFn> {
    block.items.iter().filter_map(|item| match item {
        syn::ImplItem::Fn(method) if expansion::is_cached(&method.attrs) => Some(method),
        _ => None,
    })
}

/// Names declared inside an item: a module's items (nested too), a trait's associated items.
fn declared_names(item: &syn::Item) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    match item {
        syn::Item::Mod(module) => {
            for inner in module.content.iter().flat_map(|(_, items)| items) {
                if let Some(ItemKind::Named { name }) = cell_items::kind_of(inner) {
                    names.insert(name);
                }
                names.extend(declared_names(inner));
            }
        }
        syn::Item::Trait(def) => {
            for inner in &def.items {
                match inner {
                    syn::TraitItem::Fn(f) => names.insert(f.sig.ident.to_string()),
                    syn::TraitItem::Const(c) => names.insert(c.ident.to_string()),
                    syn::TraitItem::Type(t) => names.insert(t.ident.to_string()),
                    _ => false,
                };
            }
        }
        _ => {}
    }
    names
}

/// Where a function's body (its opening brace) stands in the cell.
fn body_start(lines: &LineIndex, block: &syn::Block) -> Result<usize, PrepareError> {
    lines
        .offset(block.brace_token.span.open().start())
        .ok_or_else(|| {
            PrepareError::CacheAttribute(syn::Error::new(
                block.brace_token.span.open(),
                "cellar could not find this function's body in the cell",
            ))
        })
}

fn not_located(ident: &syn::Ident) -> PrepareError {
    PrepareError::CacheAttribute(syn::Error::new_spanned(
        ident,
        format!("cellar could not find `{ident}` in the cell"),
    ))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
pub mod tests_support {
    use super::*;

    /// A cell as the kernel would send it to a fresh notebook, with its map.
    pub fn anchored(code: &str) -> (String, SourceMap) {
        let prepared = Notebook::default()
            .prepare(CellSource {
                code,
                cell_id: None,
                deleted_cells: &[],
                display: ResultDisplay::Evcxr,
            })
            .unwrap();
        (prepared.source, prepared.map)
    }
}
