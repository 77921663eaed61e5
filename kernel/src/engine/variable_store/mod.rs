//! A variable store in each cell crate that compiles in a fraction of the time of evcxr's.
//!
//! Once a notebook has a variable, evcxr writes its own `mod evcxr_internal_runtime` into every
//! cell crate: a `VariableStore` over a std `HashMap`, which the crates pass on to each other as
//! a pointer. Every cell that takes or puts a variable then compiles hashbrown's table code for
//! that map anew: about half of the functions a small cell compiles, and a third of its rustc
//! time at the level statement cells are built at (1). The kernel, as the rustc wrapper,
//! puts in place of that module one with the same interface over a `Vec`
//! (`compact_store.rs`), on the same lines, so evcxr's error positions still hold. Its work is
//! done in a shared library built once with the seed (`library.rs`, `store_library.rs`): a cell
//! compiles only the generic methods that box and unbox its variables: 30–50 ms less rustc in
//! each cell that takes or puts one (90 ms against 145 ms for a small statement cell).
//!
//! Every cell of a process must agree on the store's layout, so the replacement is all or
//! nothing: it is made only when the library is there and evcxr's module has exactly the
//! interface ours provides (an evcxr that changed it keeps its own, in every cell), and a cell
//! whose source cannot be rewritten is not built.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use quote::ToTokens;

pub mod library;

/// The module evcxr writes into cell crates, and ours.
const MODULE_START: &str = "mod evcxr_internal_runtime {";
/// evcxr's line after the module: the cell's entry point.
const AFTER_MODULE: &str = "#[unsafe(no_mangle)]";
/// The body of our module.
const COMPACT_STORE: &str = include_str!("compact_store.rs");

/// Why a cell crate's source could not be given the compact store.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    #[error("could not read the cell crate's source {0}: {1}")]
    Read(String, std::io::Error),
    #[error("could not write the cell crate's source {0}: {1}")]
    Write(String, std::io::Error),
}

/// A cell crate's source as rustc will compile it.
pub struct CellCrate {
    pub source: String,
    /// The rustc argument linking the crate to the store library, when the crate uses ours.
    pub link: Option<OsString>,
}

/// Gives the cell crate whose root is `path` the compact store, when the store library is there
/// (`library::from_env`) and the crate has evcxr's store.
pub fn prepare(path: &Path) -> Result<CellCrate, RewriteError> {
    prepare_with(path, library::from_env())
}

fn prepare_with(path: &Path, library: Option<PathBuf>) -> Result<CellCrate, RewriteError> {
    let shown = || path.display().to_string();
    let read = std::fs::read_to_string(path).map_err(|e| RewriteError::Read(shown(), e))?;
    let Some(library) = library else {
        return Ok(CellCrate {
            source: read,
            link: None,
        });
    };
    let source = match with_compact_store(&read) {
        Some(rewritten) => {
            std::fs::write(path, &rewritten).map_err(|e| RewriteError::Write(shown(), e))?;
            rewritten
        }
        None => read,
    };
    let link = uses_compact_store(&source).then(|| library::link_argument(&library));
    Ok(CellCrate { source, link })
}

/// Whether a cell crate's source holds our store, as `with_compact_store` writes it.
fn uses_compact_store(source: &str) -> bool {
    source.contains(&compact_body())
}

/// `source` with evcxr's store module replaced by ours, on the same lines; `None` when it has
/// no module of evcxr's interface (none at all, ours already, or an evcxr that changed it).
pub fn with_compact_store(source: &str) -> Option<String> {
    let lines: Vec<&str> = source.split('\n').collect();
    let start = lines.iter().position(|line| *line == MODULE_START)?;
    let after = start
        + lines[start..]
            .iter()
            .position(|line| *line == AFTER_MODULE)?;
    let close = after.checked_sub(1).filter(|close| *close > start)?;
    let body = lines[start + 1..close].join("\n");
    let compact = compact_body();
    if lines[close] != "}" || body.trim_end() == compact {
        return None;
    }
    if interface(&body)? != interface(COMPACT_STORE)? {
        return None;
    }
    let available = close - (start + 1);
    let ours: Vec<&str> = compact.split('\n').collect();
    if ours.len() > available {
        return None;
    }
    let padding = vec![""; available - ours.len()];
    let rewritten: Vec<&str> = lines[..=start]
        .iter()
        .copied()
        .chain(ours)
        .chain(padding)
        .chain(lines[close..].iter().copied())
        .collect();
    Some(rewritten.join("\n"))
}

/// Our module's body as it goes into a cell crate: without blank and comment lines, so that it
/// fits in the lines of evcxr's.
fn compact_body() -> String {
    COMPACT_STORE
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What cells may use of a store module: its public items, each as its tokens (a function's
/// signature, a constant with its value, a type's name); `None` when it does not parse.
fn interface(module: &str) -> Option<BTreeSet<String>> {
    let file = syn::parse_file(module).ok()?;
    let public = |vis: &syn::Visibility| matches!(vis, syn::Visibility::Public(_));
    let mut items = BTreeSet::new();
    for item in &file.items {
        match item {
            syn::Item::Const(c) if public(&c.vis) => {
                items.insert(c.to_token_stream().to_string());
            }
            syn::Item::Fn(f) if public(&f.vis) => {
                items.insert(f.sig.to_token_stream().to_string());
            }
            syn::Item::Struct(s) if public(&s.vis) => {
                items.insert(format!("struct {}", s.ident));
            }
            syn::Item::Impl(block) => {
                let owner = block.self_ty.to_token_stream().to_string();
                let methods = block.items.iter().filter_map(|member| match member {
                    syn::ImplItem::Fn(f) if public(&f.vis) => Some(&f.sig),
                    _ => None,
                });
                for sig in methods {
                    items.insert(format!("{owner}::{}", sig.to_token_stream()));
                }
            }
            _ => {}
        }
    }
    Some(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compact store, compiled here to test what cells get (not all of it is used here),
    /// with the library's functions it calls.
    #[allow(dead_code)]
    mod compact {
        include!("compact_store.rs");
    }
    #[allow(dead_code)]
    mod store_library {
        include!("store_library.rs");
    }
    use compact::VariableStore;

    /// A module with evcxr's interface over a map (the shape evcxr 0.22 writes, shortened).
    const MAP_STORE: &str = r#"
// A store.
pub const VARIABLE_CHANGED_TYPE: &str = "EVCXR_VARIABLE_CHANGED_TYPE:";
pub const USER_ERROR_OCCURRED: &str = "EVCXR_ERROR_OCCURRED";

pub struct VariableStore {
    variables: std::collections::HashMap<String, Box<dyn std::any::Any + 'static>>,
}

impl VariableStore {
    pub fn new() -> VariableStore { todo!() }

    pub fn put_variable<T: 'static>(&mut self, name: &str, value: T) { todo!() }

    pub fn check_variable<T: 'static>(&mut self, name: &str) -> bool { todo!() }

    pub fn take_variable<T: 'static>(&mut self, name: &str) -> T { todo!() }

    pub fn lazy_arc<T: 'static, F: FnOnce() -> T>(
        &mut self,
        name: &str,
        create: F,
    ) -> std::sync::Arc<T> {
        todo!()
    }

    pub fn merge(&mut self, mut other: VariableStore) { todo!() }
}

pub fn create_variable_store() -> *mut VariableStore {
    Box::into_raw(Box::new(VariableStore::new()))
}
"#;

    /// The lines of evcxr 0.22's module.
    const EVCXR_MODULE_LINES: usize = 79;

    /// A cell crate with `store` as its store module, padded to evcxr's length when shorter.
    fn cell_crate(store: &str) -> String {
        let padding = "\n".repeat(EVCXR_MODULE_LINES.saturating_sub(store.lines().count()));
        let store = format!("{store}{padding}");
        format!(
            "#![allow(dead_code)]\nuse std::fmt;\n{MODULE_START}\n{store}\n}}\n{AFTER_MODULE}\n\
             pub extern \"C\" fn run_user_code_1() {{\nlet x = 1;\n}}\n"
        )
    }

    #[test]
    fn evcxr_store_is_replaced_on_the_same_lines() {
        let source = cell_crate(MAP_STORE);
        let rewritten = with_compact_store(&source).expect("rewritten");
        assert_eq!(rewritten.lines().count(), source.lines().count());
        assert!(rewritten.contains("variables: Vec<(String, Value)>,"));
        assert!(!rewritten.contains("HashMap"));
        // The lines around the module are where they were.
        for (before, after) in source.lines().zip(rewritten.lines()) {
            if before == AFTER_MODULE || before.starts_with("use ") || before.starts_with("let ") {
                assert_eq!(before, after);
            }
        }
        assert!(syn::parse_file(&rewritten).is_ok());
    }

    #[test]
    fn a_rewritten_crate_is_left_as_it_is() {
        let rewritten = with_compact_store(&cell_crate(MAP_STORE)).unwrap();
        assert_eq!(with_compact_store(&rewritten), None);
    }

    #[test]
    fn a_crate_without_a_store_is_left_as_it_is() {
        let source = "#[unsafe(no_mangle)]\npub extern \"C\" fn run_user_code_1(s: *mut u8) -> *mut u8 { s }\n";
        assert_eq!(with_compact_store(source), None);
    }

    #[test]
    fn a_store_with_another_interface_is_kept() {
        let changed = MAP_STORE.replace(
            "pub fn merge(&mut self, mut other: VariableStore) { todo!() }",
            "pub fn merge(&mut self, other: &mut VariableStore) { todo!() }",
        );
        assert_eq!(with_compact_store(&cell_crate(&changed)), None);
        let extra = MAP_STORE.replace(
            "pub fn new()",
            "pub fn len(&self) -> usize { 0 }\n    pub fn new()",
        );
        assert_eq!(with_compact_store(&cell_crate(&extra)), None);
        let renamed = MAP_STORE.replace("\"EVCXR_ERROR_OCCURRED\"", "\"EVCXR_ERROR\"");
        assert_eq!(with_compact_store(&cell_crate(&renamed)), None);
    }

    #[test]
    fn a_store_with_fewer_lines_than_ours_is_kept() {
        let short = MAP_STORE
            .lines()
            .filter(|line| !line.trim().is_empty() && !line.starts_with("//"))
            .collect::<Vec<_>>()
            .join(" ");
        let source = format!("{MODULE_START}\n{short}\n}}\n{AFTER_MODULE}\nfn f() {{}}\n");
        assert_eq!(with_compact_store(&source), None);
    }

    #[test]
    fn variables_go_in_and_come_out() {
        let mut store = VariableStore::new();
        store.put_variable("x", 5_i32);
        store.put_variable("s", String::from("text"));
        assert!(store.check_variable::<i32>("x"));
        assert!(store.check_variable::<u8>("missing"));
        assert_eq!(store.take_variable::<String>("s"), "text");
        assert_eq!(store.take_variable::<i32>("x"), 5);
    }

    #[test]
    fn a_variable_put_again_replaces_the_old_value() {
        let mut store = VariableStore::new();
        store.put_variable("x", 1_i32);
        store.put_variable("x", "now text");
        assert!(!store.check_variable::<i32>("x"));
        assert!(store.check_variable::<&str>("x"));
        assert_eq!(store.take_variable::<&str>("x"), "now text");
    }

    #[test]
    #[should_panic(expected = "Variable 'x' has gone missing")]
    fn taking_a_variable_twice_panics() {
        let mut store = VariableStore::new();
        store.put_variable("x", 1_i32);
        store.take_variable::<i32>("x");
        store.take_variable::<i32>("x");
    }

    #[test]
    #[should_panic(expected = "Variable changed type")]
    fn taking_a_variable_as_another_type_panics() {
        let mut store = VariableStore::new();
        store.put_variable("x", 1_i32);
        store.take_variable::<u8>("x");
    }

    #[test]
    fn a_value_is_moved_out_and_dropped_once() {
        let counted = std::rc::Rc::new(());
        let mut store = VariableStore::new();
        store.put_variable("rc", counted.clone());
        store.put_variable("unit", ());
        let taken = store.take_variable::<std::rc::Rc<()>>("rc");
        store.take_variable::<()>("unit");
        assert_eq!(std::rc::Rc::strong_count(&counted), 2);
        store.put_variable("rc", taken);
        drop(store);
        assert_eq!(std::rc::Rc::strong_count(&counted), 1);
    }

    #[test]
    fn our_module_fits_in_the_lines_of_evcxrs() {
        assert!(compact_body().lines().count() <= EVCXR_MODULE_LINES);
    }

    #[test]
    fn merging_keeps_the_other_stores_values() {
        let mut store = VariableStore::new();
        store.put_variable("a", 1_i32);
        store.put_variable("b", 2_i32);
        let mut other = VariableStore::new();
        other.put_variable("b", 20_i32);
        other.put_variable("c", 30_i32);
        store.merge(other);
        let values: Vec<i32> = ["a", "b", "c"]
            .map(|n| store.take_variable::<i32>(n))
            .to_vec();
        assert_eq!(values, [1, 20, 30]);
    }

    #[test]
    fn lazy_arc_creates_once() {
        let mut store = VariableStore::new();
        let first = store.lazy_arc("runtime", || 7_u64);
        let second = store.lazy_arc("runtime", || unreachable!("created once"));
        assert!(std::sync::Arc::ptr_eq(&first, &second));
    }

    #[test]
    fn the_store_crosses_cells_as_a_pointer() {
        let pointer = compact::create_variable_store();
        unsafe { &mut *pointer }.put_variable("v", vec![1_u8, 2]);
        let store = unsafe { Box::from_raw(pointer) };
        let mut store = *store;
        assert_eq!(store.take_variable::<Vec<u8>>("v"), [1, 2]);
    }

    #[test]
    fn the_file_is_rewritten_in_place_and_linked_to_the_library() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lib.rs");
        let library = dir.path().join("variable-store-0123.so");
        std::fs::write(&path, cell_crate(MAP_STORE)).unwrap();
        let compiled = prepare_with(&path, Some(library.clone())).unwrap();
        assert!(compiled.source.contains("Vec<(String, Value)>"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), compiled.source);
        assert_eq!(compiled.link, Some(library::link_argument(&library)));
        // Built again (evcxr's fallback build of the same crate): still linked.
        let again = prepare_with(&path, Some(library.clone())).unwrap();
        assert_eq!(again.source, compiled.source);
        assert_eq!(again.link, compiled.link);
        let missing = dir.path().join("missing.rs");
        let error = prepare_with(&missing, Some(library))
            .err()
            .unwrap()
            .to_string();
        assert!(
            error.starts_with("could not read the cell crate's source"),
            "{error}"
        );
    }

    #[test]
    fn without_the_library_evcxrs_store_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lib.rs");
        std::fs::write(&path, cell_crate(MAP_STORE)).unwrap();
        let compiled = prepare_with(&path, None).unwrap();
        assert_eq!(compiled.source, cell_crate(MAP_STORE));
        assert_eq!(compiled.link, None);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            cell_crate(MAP_STORE)
        );
    }
}
