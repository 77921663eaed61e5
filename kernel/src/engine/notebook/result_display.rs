//! Showing a cell's final expression after one build instead of evcxr's two.
//!
//! evcxr compiles `(expr).evcxr_display()` and, for the many types without that method
//! (numbers, strings, collections), compiles the whole cell again with `{:?}` formatting. The
//! kernel makes the final expression a statement that calls `evcxr_display` with a trait of its
//! own in scope, implemented for every `Debug` type: a type's own method (inherent) still wins,
//! any other value is shown as evcxr's fallback shows it, and the cell is built once. The trait
//! is declared in the statement itself, so a cell needs no dependency for it.

use super::edits::Edit;
use std::ops::Range;

/// Who turns a cell's final expression into the cell's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultDisplay {
    /// The kernel, in one build.
    Kernel,
    /// evcxr, in up to two builds: after `:fmt` or `:types` (settings only evcxr applies), when
    /// the notebook defines an `evcxr_display` method (a smart pointer to such a type would
    /// show with `Debug` instead), or when the kernel's form did not compile.
    Evcxr,
}

/// The method evcxr calls to show a value.
pub const SHOW_METHOD: &str = "evcxr_display";

/// What goes before the expression: the trait, on the expression's own line.
const BEFORE: &str = "{ trait __CellarShowWithDebug { fn evcxr_display(&self); } \
impl<T: ::std::fmt::Debug + ?Sized> __CellarShowWithDebug for T { fn evcxr_display(&self) { \
println!(\"EVCXR_BEGIN_CONTENT text/plain\\n{:?}\\nEVCXR_END_CONTENT\", self); } } (";

/// The edits that make the expression at `range` show itself.
pub fn edits(range: Range<usize>) -> [Edit; 2] {
    [
        Edit::insert(range.start, BEFORE),
        Edit::insert(range.end, format!(").{SHOW_METHOD}(); }};")),
    ]
}

/// Whether a cell line changes how evcxr formats results.
pub fn changes_formatting(cell: &str) -> bool {
    crate::engine::commands::has_command_line(cell, &[":fmt", ":types"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expression_becomes_a_statement_that_shows_it() {
        let cell = "let x = 2;\nx + 1";
        let start = cell.find("x + 1").unwrap();
        let edited = super::super::edits::apply(cell, edits(start..cell.len()).to_vec()).unwrap();
        assert_eq!(
            edited.text,
            format!("let x = 2;\n{BEFORE}x + 1).evcxr_display(); }};")
        );
        assert!(
            !BEFORE.contains('\n'),
            "the user's lines keep their numbers"
        );
    }

    #[test]
    fn format_commands_are_found_on_any_line() {
        assert!(changes_formatting(":fmt {:#?}\nvec![1]"));
        assert!(changes_formatting("  :types"));
        assert!(!changes_formatting(":dep rand\n1 + 1"));
        assert!(!changes_formatting("let fmt = 1; fmt"));
    }
}
