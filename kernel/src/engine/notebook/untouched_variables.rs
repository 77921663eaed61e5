//! What the build of a cell that runs can leave out: the variables its code does not touch.
//!
//! evcxr's entry point takes every variable of the notebook out of its store before the cell's
//! code and puts each one back after it (`cell_code`), so every cell compiles the unboxing, the
//! boxing and the drop glue of every variable's type: with the 14 variables at the end of the
//! cached-functions notebook, about a third of a trivial cell's rustc. A variable the cell's code
//! does not name cannot be used by it (a `macro_rules!` body cannot see the caller's variables),
//! so it stays in the store as it is: its take and put lines are left out. Its check line stays,
//! so a variable whose type a cell redefined is still reported lost by the next cell, as evcxr
//! does.
//!
//! Every line keeps its number, so evcxr's map from rustc's diagnostics to the cell still
//! holds: in each run of take (or put) lines, the kept ones come first and blank lines follow.

use super::cell_code::{CellCode, StoreLine};
use super::edits::{Edit, LineIndex};

/// The edits to a cell crate that runs (its text indexed by `lines`; its cell's code is
/// `code`) that leave out the take and put lines of the variables the code does not name.
pub fn edits(lines: &LineIndex, code: &CellCode) -> Vec<Edit> {
    let untouched = |line: &str| {
        StoreLine::of(line).is_some_and(|(kind, name)| {
            kind != StoreLine::Check
                && code.variables.contains_key(name)
                && !code.mentions.contains(name)
        })
    };
    let numbered: Vec<(usize, &str)> = lines.text().split('\n').enumerate().collect();
    let mut edits = Vec::new();
    for run in numbered.chunk_by(|(_, a), (_, b)| StoreLine::same_kind(a, b)) {
        if !run.iter().any(|(_, line)| untouched(line)) {
            continue;
        }
        let (kept, left_out): (Vec<&str>, Vec<&str>) = run
            .iter()
            .map(|(_, line)| *line)
            .partition(|line| !untouched(line));
        let mut text: Vec<&str> = kept;
        text.extend(left_out.iter().map(|_| ""));
        let (first, _) = run[0];
        let (last, _) = run[run.len() - 1];
        // The run's first line from its start, its last to its end.
        if let (Some(start), Some(end)) = (lines.at(first, 0), lines.at(last, usize::MAX)) {
            edits.push(Edit {
                range: start..end,
                text: text.join("\n"),
            });
        }
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::super::cell_code::evcxr_crates::cell_crate;
    use super::super::leave_out_of_a_run;
    use super::*;
    use std::collections::BTreeSet;

    /// The variables of `source` that `out` leaves in the store.
    fn left_in_store(source: &str, out: &str) -> BTreeSet<String> {
        let taken = |text: &str| {
            CellCode::of(&syn::parse_file(text).unwrap())
                .unwrap()
                .variables
        };
        let still_taken = taken(out);
        taken(source)
            .into_keys()
            .filter(|name| !still_taken.contains_key(name))
            .collect()
    }

    const ITEMS: &str = "struct Big { v: Vec<u8> }";
    const VARIABLES: [(&str, &str); 4] = [
        ("big", "Big"),
        ("mut m", "Vec<u32>"),
        ("n", "usize"),
        ("s", "String"),
    ];

    #[test]
    fn variables_the_code_does_not_name_stay_in_the_store_and_lines_keep_their_numbers() {
        let source = cell_crate(ITEMS, &VARIABLES, "m.push(1);\nprintln!(\"{s}\");");
        let out = leave_out_of_a_run(&source, None).unwrap();
        assert_eq!(
            left_in_store(&source, &out),
            BTreeSet::from(["big".to_string(), "n".to_string()])
        );
        assert_eq!(out.lines().count(), source.lines().count());
        let line_of = |text: &str, what: &str| text.lines().position(|line| line == what);
        assert_eq!(line_of(&out, "m.push(1);"), line_of(&source, "m.push(1);"));
        assert!(out.contains("let mut m = evcxr_variable_store.take_variable::<Vec<u32>>"));
        assert!(out.contains("evcxr_variable_store.put_variable::<String>(stringify!(s), s);"));
        assert!(!out.contains("put_variable::<usize>"), "{out}");
        // The checks stay, for every variable.
        assert!(
            out.contains("check_variable::<Big>(stringify!(big))"),
            "{out}"
        );
        assert!(
            out.contains("check_variable::<usize>(stringify!(n))"),
            "{out}"
        );
    }

    #[test]
    fn a_cell_that_names_every_variable_is_left_whole() {
        let source = cell_crate(ITEMS, &VARIABLES[1..3], "n + m.len()");
        assert_eq!(leave_out_of_a_run(&source, None), None);
    }

    #[test]
    fn a_variable_named_only_in_a_format_string_or_a_macro_is_touched() {
        let source = cell_crate(
            ITEMS,
            &VARIABLES,
            "println!(\"{n}\"); dbg!(big.v.len()); show!(s)",
        );
        let out = leave_out_of_a_run(&source, None).unwrap();
        assert_eq!(
            left_in_store(&source, &out),
            BTreeSet::from(["m".to_string()])
        );
    }
}
