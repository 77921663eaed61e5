//! The cell's own code in the crate evcxr writes for it.
//!
//! evcxr puts a cell's statements in an entry point, `run_user_code_N`, between lines of its own
//! that check, take out and put back every variable of the notebook:
//! `vars_ok &= evcxr_variable_store.check_variable::<T>(…)` in a block,
//! `let x = evcxr_variable_store.take_variable::<T>(…);` and
//! `evcxr_variable_store.put_variable::<T>(…);`. Those lines name every variable and its type
//! whatever the cell does; the cell's code is the rest.

use super::dependencies::Idents;
use quote::ToTokens;
use std::collections::{BTreeMap, BTreeSet};
use syn::visit_mut::VisitMut;

/// The start of the name of the function evcxr calls to run the cell.
const ENTRY_POINT: &str = "run_user_code_";
/// evcxr's calls on its variable store.
const STORE_CALLS: [&str; 3] = ["take_variable", "put_variable", "check_variable"];

/// The variable a check or put line names: `…(stringify!(NAME), …`.
fn stringified(rest: &str) -> &str {
    rest.split("(stringify!(")
        .nth(1)
        .and_then(|name| name.split(')').next())
        .unwrap_or_default()
}

/// One of evcxr's lines for a variable in the entry point; each stands on a line of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreLine {
    Check,
    Take,
    Put,
}

const CHECK: &str = "vars_ok &= evcxr_variable_store.check_variable::<";
const TAKE: &str = "= evcxr_variable_store.take_variable::<";
const PUT: &str = "evcxr_variable_store.put_variable::<";

impl StoreLine {
    /// Which of evcxr's store lines `line` is, and the variable it names (empty when it names
    /// none the usual way).
    pub fn of(line: &str) -> Option<(StoreLine, &str)> {
        if let Some(rest) = line.strip_prefix(CHECK) {
            return Some((StoreLine::Check, stringified(rest)));
        }
        if let Some(rest) = line.strip_prefix("let ") {
            let at = rest.find(TAKE)?;
            let declared = rest[..at].trim_end();
            return Some((
                StoreLine::Take,
                declared.strip_prefix("mut ").unwrap_or(declared),
            ));
        }
        let rest = line.strip_prefix(PUT)?;
        Some((StoreLine::Put, stringified(rest)))
    }

    /// Whether two lines are store lines of one kind: a run of them commutes.
    pub fn same_kind(a: &str, b: &str) -> bool {
        let kind = |line| StoreLine::of(line).map(|(kind, _)| kind);
        kind(a).is_some_and(|k| kind(b) == Some(k))
    }
}

/// The cell's code in evcxr's entry point: the names it mentions, and the variables evcxr
/// takes out of its store for it, with the names their types mention.
pub struct CellCode {
    pub mentions: BTreeSet<String>,
    pub variables: BTreeMap<String, Idents>,
}

impl CellCode {
    /// The cell's code in `file`, a cell crate; `None` without evcxr's entry point.
    pub fn of(file: &syn::File) -> Option<CellCode> {
        let entry = file.items.iter().find_map(|item| match item {
            syn::Item::Fn(f) if f.sig.ident.to_string().starts_with(ENTRY_POINT) => Some(f),
            _ => None,
        })?;
        let mut variables = BTreeMap::new();
        let mut code = (*entry.block).clone();
        code.stmts.retain(|statement| match statement {
            syn::Stmt::Local(local) => {
                let init = local.init.as_ref().map(|init| &*init.expr);
                match (&local.pat, init) {
                    (syn::Pat::Ident(name), Some(syn::Expr::MethodCall(call)))
                        if call.method == "take_variable" =>
                    {
                        let type_names = Idents::of(call.turbofish.to_token_stream());
                        variables.insert(name.ident.to_string(), type_names);
                        false
                    }
                    _ => true,
                }
            }
            syn::Stmt::Expr(syn::Expr::MethodCall(call), _) => call.method != "put_variable",
            _ => true,
        });
        WithoutStoreCalls.visit_block_mut(&mut code);
        Some(CellCode {
            mentions: Idents::of(code.to_token_stream()).0,
            variables,
        })
    }
}

/// Turns evcxr's store calls into `()`: the variables and types they name are not the cell's.
struct WithoutStoreCalls;

impl VisitMut for WithoutStoreCalls {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr {
            if STORE_CALLS.iter().any(|name| call.method == name) {
                *expr = syn::parse_quote!(());
                return;
            }
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// Cell crates as evcxr writes them, for the tests of what reads them.
#[cfg(test)]
pub mod evcxr_crates {
    /// `items`, then evcxr's entry point running `statements` with the store's lines for
    /// `variables` (name and type; a `mut ` before the name makes it mutable) in the order given:
    /// evcxr's order changes from one process to the next.
    pub fn cell_crate(items: &str, variables: &[(&str, &str)], statements: &str) -> String {
        let name_of = |declared: &str| declared.trim_start_matches("mut ").to_string();
        let mut source = format!("{items}\n#[unsafe(no_mangle)]\npub extern \"C\" fn run_user_code_3(\nmut evcxr_variable_store: *mut evcxr_internal_runtime::VariableStore)\n  -> *mut evcxr_internal_runtime::VariableStore {{\n{{let mut vars_ok = true;\n");
        for (declared, ty) in variables {
            let name = name_of(declared);
            source.push_str(&format!(
                "vars_ok &= evcxr_variable_store.check_variable::<{ty}>(stringify!({name}));\n"
            ));
        }
        source.push_str("if !vars_ok {return evcxr_variable_store;}}\n");
        for (declared, ty) in variables {
            let name = name_of(declared);
            source.push_str(&format!(
                "let {declared} = evcxr_variable_store.take_variable::<{ty}>(stringify!({name}));\n"
            ));
        }
        source.push_str(&format!("match std::panic::catch_unwind(\n  std::panic::AssertUnwindSafe(||{{\n{statements}\n}})) {{\n  Ok(_) => {{}}\n  Err(_) => {{}}}}\n"));
        for (declared, ty) in variables {
            let name = name_of(declared);
            source.push_str(&format!(
                "evcxr_variable_store.put_variable::<{ty}>(stringify!({name}), {name});\n"
            ));
        }
        source.push_str("evcxr_variable_store\n}\n");
        source
    }
}

#[cfg(test)]
mod tests {
    use super::evcxr_crates::cell_crate;
    use super::*;

    #[test]
    fn evcxrs_store_lines_are_told_with_their_variable() {
        let source = cell_crate("", &[("mut n", "usize")], "let k = 1;");
        let lines: Vec<_> = source.lines().filter_map(StoreLine::of).collect();
        assert_eq!(
            lines,
            [
                (StoreLine::Check, "n"),
                (StoreLine::Take, "n"),
                (StoreLine::Put, "n")
            ]
        );
        assert!(StoreLine::same_kind(
            "let a = evcxr_variable_store.take_variable::<u8>(stringify!(a));",
            "let mut b = evcxr_variable_store.take_variable::<u8>(stringify!(b));"
        ));
        assert!(!StoreLine::same_kind("let k = 1;", "let k = 1;"));
    }

    #[test]
    fn the_cells_code_is_what_evcxrs_store_lines_leave() {
        let source = cell_crate(
            "struct Big;",
            &[("big", "Vec<Big>"), ("mut n", "usize")],
            "n += helper(1);",
        );
        let code = CellCode::of(&syn::parse_file(&source).unwrap()).unwrap();
        assert!(code.mentions.contains("n") && code.mentions.contains("helper"));
        for name in [
            "big",
            "Big",
            "Vec",
            "usize",
            "check_variable",
            "take_variable",
        ] {
            assert!(!code.mentions.contains(name), "{name}: {:?}", code.mentions);
        }
        assert_eq!(code.variables.keys().collect::<Vec<_>>(), ["big", "n"]);
        assert_eq!(
            code.variables["big"].0,
            ["Big", "Vec"].map(str::to_string).into()
        );
        assert!(CellCode::of(&syn::parse_file("fn main() {}").unwrap()).is_none());
    }
}
