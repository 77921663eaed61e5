//! Cache attributes, expanded before evcxr sees a cell.
//!
//! evcxr infers the types of `let` variables with a rust-analyzer that does not expand proc
//! macros, so `let df = load(…)` would not compile if `#[cache_data]` changed `load`'s return
//! type out of its sight. The kernel therefore expands `#[cache_data]`, `#[cache_resource]`,
//! `#[memo]` and `#[singleton]` itself with the same code generator the proc macros use
//! (`cellar-codegen`), and hands evcxr plain Rust with the true signature.
//!
//! The expansion keeps the cell's line numbers: the new signature takes the attribute's line,
//! the body is the user's own text, and the generated items follow its closing brace, so rustc's
//! diagnostics still point at the lines the user wrote.
//!
//! A value whose type is defined in the notebook must not be read back after that type's
//! definition changed (evcxr keeps a type's id when only a field's type changes). So the key of
//! a cached function also covers the definitions of the notebook types its signature mentions
//! (the "type salt"), which the kernel knows because it sees every cell. When a later cell
//! changes such a type, the kernel sends the function's new expansion along with that cell, so
//! its key follows the type even if the user does not re-run the function's cell.

use cellar_codegen::{CacheKind, Layout};
use proc_macro2::{LineColumn, TokenStream};
use quote::ToTokens;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use syn::visit::Visit;

/// What the kernel knows of the notebook's items: type definitions and cached functions.
#[derive(Default)]
pub struct Notebook {
    definitions: HashMap<String, String>,
    cached: BTreeMap<String, CachedFn>,
}

/// A cached function as the user wrote it, and the salt its current expansion was made with.
struct CachedFn {
    item: syn::ItemFn,
    salt: Option<String>,
}

impl Notebook {
    /// Expansions of cached functions from earlier cells whose notebook types have changed.
    fn stale_expansions(
        &mut self,
        defined_now: &BTreeSet<String>,
    ) -> Result<Vec<String>, syn::Error> {
        let mut out = Vec::new();
        let names: Vec<String> = self
            .cached
            .keys()
            .filter(|name| !defined_now.contains(*name))
            .cloned()
            .collect();
        for name in names {
            let salt = self.salt(&self.cached[&name].item.sig);
            if salt != self.cached[&name].salt {
                let item = self.cached[&name].item.clone();
                if let Some((kind, args, bare)) = split_cache_attr(&item)? {
                    out.push(
                        cellar_codegen::expand(
                            kind,
                            args,
                            bare,
                            salt.as_deref(),
                            Layout::Notebook,
                        )?
                        .to_string(),
                    );
                }
                self.cached.get_mut(&name).expect("listed above").salt = salt;
            }
        }
        Ok(out)
    }

    /// The salt for a function's key: the definitions of notebook types its signature reaches.
    fn salt(&self, signature: &syn::Signature) -> Option<String> {
        let mut seen = BTreeMap::new();
        let mut pending: Vec<String> = idents(|c| c.visit_signature(signature))
            .into_iter()
            .collect();
        while let Some(name) = pending.pop() {
            if seen.contains_key(&name) {
                continue;
            }
            if let Some(definition) = self.definitions.get(&name) {
                seen.insert(name, definition.clone());
                if let Ok(item) = syn::parse_str::<syn::Item>(definition) {
                    pending.extend(idents(|c| c.visit_item(&item)));
                }
            }
        }
        (!seen.is_empty()).then(|| {
            seen.into_iter()
                .map(|(name, def)| format!("{name}={def}\n"))
                .collect()
        })
    }

    fn record(&mut self, item: &syn::Item) {
        let name = match item {
            syn::Item::Struct(s) => &s.ident,
            syn::Item::Enum(e) => &e.ident,
            syn::Item::Union(u) => &u.ident,
            syn::Item::Type(t) => &t.ident,
            _ => return,
        };
        self.definitions
            .insert(name.to_string(), item.to_token_stream().to_string());
    }
}

/// Every identifier a visitor meets: the names a signature or a definition mentions.
fn idents(visit: impl FnOnce(&mut IdentCollector)) -> BTreeSet<String> {
    let mut collector = IdentCollector::default();
    visit(&mut collector);
    collector.0
}

#[derive(Default)]
struct IdentCollector(BTreeSet<String>);

impl<'ast> Visit<'ast> for IdentCollector {
    fn visit_ident(&mut self, ident: &'ast proc_macro2::Ident) {
        self.0.insert(ident.to_string());
    }
}

/// The cell with every cache attribute expanded, or the cell unchanged when it has none (or does
/// not parse: then evcxr reports the syntax error in the user's own terms).
pub fn rewrite(cell: &str, notebook: &mut Notebook) -> Result<String, syn::Error> {
    // Kernel and evcxr commands (`:dep …`) are not Rust: blank them out, keeping every offset.
    let masked: String = cell
        .split_inclusive('\n')
        .map(|line| {
            if line.trim_start().starts_with(':') {
                mask(line)
            } else {
                line.to_string()
            }
        })
        .collect();
    let Ok(block) = syn::parse_str::<syn::Block>(&format!("{{\n{masked}\n}}")) else {
        return Ok(cell.to_string());
    };
    let items: Vec<&syn::Item> = block
        .stmts
        .iter()
        .filter_map(|s| {
            if let syn::Stmt::Item(i) = s {
                Some(i)
            } else {
                None
            }
        })
        .collect();
    for item in &items {
        notebook.record(item);
    }
    let lines = LineIndex::new(cell);
    let mut edits = Vec::new();
    let mut defined_now = BTreeSet::new();
    for item in &items {
        match item {
            syn::Item::Fn(function) => {
                if let Some(edit) =
                    expand_function(cell, &lines, function, Layout::Notebook, notebook)?
                {
                    notebook.cached.insert(
                        function.sig.ident.to_string(),
                        CachedFn {
                            item: function.clone(),
                            salt: notebook.salt(&function.sig),
                        },
                    );
                    defined_now.insert(function.sig.ident.to_string());
                    edits.push(edit);
                }
            }
            // Cached methods: expanded in place, as the proc macro would (no controls beside
            // them, the user's visibility kept: a trait impl's methods can't have one).
            syn::Item::Impl(block) => {
                for method in block.items.iter().filter_map(|i| {
                    if let syn::ImplItem::Fn(m) = i {
                        Some(m)
                    } else {
                        None
                    }
                }) {
                    let function = syn::ItemFn {
                        attrs: method.attrs.clone(),
                        vis: method.vis.clone(),
                        sig: method.sig.clone(),
                        block: Box::new(method.block.clone()),
                    };
                    edits.extend(expand_function(
                        cell,
                        &lines,
                        &function,
                        Layout::Crate,
                        notebook,
                    )?);
                }
            }
            _ => {}
        }
    }
    edits.sort_by_key(|(range, _)| range.start);
    let mut out = cell.to_string();
    for (range, text) in edits.into_iter().rev() {
        out.replace_range(range, &text);
    }
    // Re-sent functions go on the first line, so the cell keeps its line numbers.
    let stale = notebook.stale_expansions(&defined_now)?;
    if !stale.is_empty() {
        out = format!("{} {out}", stale.join(" "));
    }
    Ok(out)
}

fn mask(line: &str) -> String {
    line.chars()
        .map(|c| if c == '\n' { c } else { ' ' })
        .collect()
}

type Edit = (std::ops::Range<usize>, String);

/// The cache attribute of a function, its options, and the function without it.
fn split_cache_attr(
    function: &syn::ItemFn,
) -> Result<Option<(CacheKind, TokenStream, syn::ItemFn)>, syn::Error> {
    let Some((index, kind)) = function
        .attrs
        .iter()
        .enumerate()
        .find_map(|(i, attr)| cache_kind(attr).map(|k| (i, k)))
    else {
        return Ok(None);
    };
    let mut item = function.clone();
    let attr = item.attrs.remove(index);
    let args = match &attr.meta {
        syn::Meta::Path(_) => TokenStream::new(),
        syn::Meta::List(list) => list.tokens.clone(),
        syn::Meta::NameValue(nv) => {
            return Err(syn::Error::new_spanned(
                nv,
                "write the options in parentheses: #[cache_data(ttl = \"1h\")]",
            ))
        }
    };
    Ok(Some((kind, args, item)))
}

/// The edit that replaces a cached function (or method) with its expansion, if it is one.
fn expand_function(
    cell: &str,
    lines: &LineIndex,
    function: &syn::ItemFn,
    layout: Layout,
    notebook: &Notebook,
) -> Result<Option<Edit>, syn::Error> {
    let Some((kind, args, item)) = split_cache_attr(function)? else {
        return Ok(None);
    };
    let salt = notebook.salt(&item.sig);
    let expanded = cellar_codegen::expand(kind, args, item, salt.as_deref(), layout)?.to_string();

    // Put the user's body text back in place of its token rendering, keeping its lines.
    let start = lines.offset(
        function
            .to_token_stream()
            .into_iter()
            .next()
            .map(|t| t.span().start()),
    );
    let body_start = lines.offset(Some(function.block.brace_token.span.open().start()));
    let body_end = lines.offset(Some(function.block.brace_token.span.close().end()));
    let (Some(start), Some(body_start), Some(body_end)) = (start, body_start, body_end) else {
        return Ok(None);
    };
    let body_tokens = function.block.to_token_stream().to_string();
    let Some(at) = expanded.find(&body_tokens) else {
        return Ok(Some((start..body_end, expanded)));
    };
    let newlines = cell[start..body_start].matches('\n').count();
    let text = format!(
        "{}{}{}{}",
        &expanded[..at],
        "\n".repeat(newlines),
        &cell[body_start..body_end],
        &expanded[at + body_tokens.len()..]
    );
    Ok(Some((start..body_end, text)))
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

/// Line/column (as proc-macro2 reports them for the wrapped cell) → byte offset in the cell.
struct LineIndex {
    starts: Vec<usize>,
    text: String,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            starts,
            text: text.to_string(),
        }
    }

    /// The wrapper adds one line (`{`) above the cell; columns count chars.
    fn offset(&self, position: Option<LineColumn>) -> Option<usize> {
        let position = position?;
        let line_start = *self.starts.get(position.line.checked_sub(2)?)?;
        let line = &self.text[line_start..];
        let in_line = line
            .char_indices()
            .nth(position.column)
            .map(|(i, _)| i)
            .unwrap_or(line.len());
        Some(line_start + in_line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_without_cache_attributes_are_unchanged() {
        let mut notebook = Notebook::default();
        let cell = ":dep foo = \"1\"\nfn f() -> i32 { 1 }\nlet x = f();\nx";
        assert_eq!(rewrite(cell, &mut notebook).unwrap(), cell);
        assert_eq!(rewrite("let x = (;", &mut notebook).unwrap(), "let x = (;");
    }

    #[test]
    fn expansion_shows_the_true_signature_and_keeps_lines() {
        let mut notebook = Notebook::default();
        let cell = "use cellar::cache_data;\n#[cache_data(ttl = \"1h\")]\nfn load(n: usize) -> Vec<u8> {\n    let v = vec![0; n];\n    v\n}\nlet x = load(3);\nx.len()";
        let out = rewrite(cell, &mut notebook).unwrap();
        assert!(out.contains("cellar :: Data < Vec < u8 > >"), "{out}");
        assert!(out.contains("mod __cellar_load"), "{out}");
        assert!(!out.contains("#[cache_data"));
        assert_eq!(out.lines().count(), cell.lines().count(), "{out}");
        let user_lines: Vec<&str> = cell.lines().collect();
        let out_lines: Vec<&str> = out.lines().collect();
        assert_eq!(out_lines[3], user_lines[3]);
        assert_eq!(out_lines[6..], user_lines[6..]);
    }

    #[test]
    fn cached_methods_are_expanded_in_place() {
        let mut notebook = Notebook::default();
        let cell = "struct Db;\nimpl Db {\n    #[cellar::cache_data]\n    fn rows(&self, n: u32) -> Vec<u32> {\n        vec![n]\n    }\n}\nlet r = Db.rows(2);";
        let out = rewrite(cell, &mut notebook).unwrap();
        assert!(
            out.contains("fn rows (& self , n : u32) -> :: cellar :: Data < Vec < u32 > >"),
            "{out}"
        );
        assert!(!out.contains("#[cellar::cache_data]"), "{out}");
        assert_eq!(out.lines().count(), cell.lines().count(), "{out}");
        assert!(out.ends_with("}\nlet r = Db.rows(2);"), "{out}");
    }

    #[test]
    fn notebook_types_salt_the_key() {
        let mut notebook = Notebook::default();
        let cell = |field: &str| {
            format!("struct Frame {{ a: {field} }}\n#[cache_data]\nfn f() -> Frame {{ Frame {{ a: 1 }} }}")
        };
        let first = rewrite(&cell("i32"), &mut notebook).unwrap();
        let again = rewrite(&cell("i32"), &mut notebook).unwrap();
        let changed = rewrite(&cell("i64"), &mut notebook).unwrap();
        assert_eq!(first, again);
        let after_definition =
            |out: &str| out.lines().skip(1).map(str::to_string).collect::<Vec<_>>();
        assert_ne!(
            after_definition(&first),
            after_definition(&changed),
            "the function key must change"
        );
    }

    #[test]
    fn a_changed_type_resends_the_functions_that_use_it() {
        let mut notebook = Notebook::default();
        let define = "struct Frame { a: i32 }\n#[cache_data]\nfn f() -> Frame { Frame { a: 1 } }";
        rewrite(define, &mut notebook).unwrap();
        assert_eq!(rewrite("1 + 1", &mut notebook).unwrap(), "1 + 1");
        let changed = rewrite("struct Frame { a: i64 }\nlet x = 1;", &mut notebook).unwrap();
        assert!(
            changed.contains("fn f ()") && changed.contains("mod __cellar_f"),
            "{changed}"
        );
        assert_eq!(changed.lines().count(), 2, "line numbers are kept");
        assert!(changed.ends_with("struct Frame { a: i64 }\nlet x = 1;"));
        assert_eq!(
            rewrite("2 + 2", &mut notebook).unwrap(),
            "2 + 2",
            "sent once"
        );
    }
}
