//! The cell crate's source with evcxr's arbitrary orders taken out.
//!
//! evcxr keeps a notebook's items and variables in std `HashMap`s, so the same notebook yields
//! the same crate with its top-level items, and the lines it writes once per variable, in
//! another order in every process. Those orders do not change what the crate means. Two
//! sources with the same canonical text build the same library: the key is made from it.

use crate::engine::notebook::StoreLine;
use quote::ToTokens;

/// Sorts every run of consecutive per-variable lines of one kind.
fn sort_variable_lines(source: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    for run in lines.chunk_by(|a, b| StoreLine::same_kind(a, b)) {
        let mut run = run.to_vec();
        run.sort_unstable();
        out.extend(run);
    }
    out.join("\n")
}

/// The canonical text of a cell crate's source, or `None` when it does not parse (it is then
/// compiled as it is, and not kept).
///
/// Items are sorted by their tokens, except `macro_rules!` definitions: a macro is visible only
/// below its definition, so those keep their order, after the others.
pub fn canonical(source: &str) -> Option<String> {
    let file = syn::parse_file(&sort_variable_lines(source)).ok()?;
    let mut macros = Vec::new();
    let mut items = Vec::new();
    for item in &file.items {
        let text = item.to_token_stream().to_string();
        match item {
            syn::Item::Macro(m) if m.mac.path.is_ident("macro_rules") => macros.push(text),
            _ => items.push(text),
        }
    }
    items.sort_unstable();
    let attributes = file.attrs.iter().map(|a| a.to_token_stream().to_string());
    Some(
        attributes
            .chain(items)
            .chain(macros)
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CELL: &str = "#![allow(dead_code)]
struct B;
struct A;
pub extern \"C\" fn run_user_code_3() {
{let mut vars_ok = true;
vars_ok &= evcxr_variable_store.check_variable::<i32>(stringify!(y));
vars_ok &= evcxr_variable_store.check_variable::<i32>(stringify!(x));
if !vars_ok {return;}}
let y = evcxr_variable_store.take_variable::<i32>(stringify!(y));
let mut x = evcxr_variable_store.take_variable::<i32>(stringify!(x));
let z = x + y;
x += 1;
evcxr_variable_store.put_variable::<i32>(stringify!(y), y);
evcxr_variable_store.put_variable::<i32>(stringify!(x), x);
}";

    #[test]
    fn item_and_variable_orders_do_not_count() {
        let other = CELL
            .replace("struct B;\nstruct A;", "struct A;\nstruct B;")
            .replace(
                "let y = evcxr_variable_store.take_variable::<i32>(stringify!(y));\nlet mut x = evcxr_variable_store.take_variable::<i32>(stringify!(x));",
                "let mut x = evcxr_variable_store.take_variable::<i32>(stringify!(x));\nlet y = evcxr_variable_store.take_variable::<i32>(stringify!(y));",
            )
            .replace(
                "evcxr_variable_store.put_variable::<i32>(stringify!(y), y);\nevcxr_variable_store.put_variable::<i32>(stringify!(x), x);",
                "evcxr_variable_store.put_variable::<i32>(stringify!(x), x);\nevcxr_variable_store.put_variable::<i32>(stringify!(y), y);",
            );
        assert_ne!(other, CELL);
        assert_eq!(canonical(&other), canonical(CELL));
    }

    #[test]
    fn the_order_of_the_users_statements_counts() {
        let swapped = CELL.replace("let z = x + y;\nx += 1;", "x += 1;\nlet z = x + y;");
        assert_ne!(canonical(&swapped), canonical(CELL));
    }

    #[test]
    fn macros_keep_their_order() {
        let first = "macro_rules! a { () => {} }\nmacro_rules! b { () => {} }\nfn f() {}";
        let second = "macro_rules! b { () => {} }\nmacro_rules! a { () => {} }\nfn f() {}";
        assert_ne!(canonical(first), canonical(second));
        let moved = "fn f() {}\nmacro_rules! a { () => {} }\nmacro_rules! b { () => {} }";
        assert_eq!(canonical(first), canonical(moved));
    }

    #[test]
    fn a_user_line_like_a_variable_line_is_not_moved() {
        let user = "fn f() {\nlet a = 1;\nlet b = 2;\n}";
        let swapped = "fn f() {\nlet b = 2;\nlet a = 1;\n}";
        assert_ne!(canonical(user), canonical(swapped));
    }

    #[test]
    fn unparsable_source_has_no_canonical_text() {
        assert_eq!(canonical("fn f( {"), None);
    }
}
