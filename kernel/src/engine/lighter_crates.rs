//! What a cell's build leaves out of the crate evcxr wrote for it, and when.
//!
//! evcxr writes every earlier item of the notebook, and the lines of every variable, into each
//! cell's crate, and rustc compiles them all again. The kernel says what the cell is
//! (`cell_crate_flags`), and the build leaves out what it need not compile: a cell of items,
//! which is only checked, the earlier bodies it cannot break
//! (`notebook::leave_out_unchanged_bodies`); a cell that runs, what its code cannot reach
//! (`notebook::leave_out_of_a_run`); evcxr's first build, at its start, its attempt to show `42`
//! through `.evcxr_display()`, a method no type has then: without it the build passes, and
//! evcxr does not build `42` a second time to show it another way.
//!
//! The rustc wrapper writes the lighter crate over the crate root only when rustc is about to
//! compile it. A build that a kept one stands for (`compiled_cells`) skips the rewrite, and its
//! parse: that build's key is made from the crate evcxr wrote and what would be left out of it
//! ([`LeaveOut::describe`]).

use super::notebook;
use std::collections::BTreeSet;
use std::path::Path;

/// What a cell's build leaves out, given the names the cell declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveOut {
    /// A cell of items: the earlier bodies that cannot fail through what it declares.
    UnchangedBodies(BTreeSet<String>),
    /// A cell that runs: what its code, and what it declares when the kernel could tell, cannot
    /// reach.
    Unreached(Option<BTreeSet<String>>),
    /// evcxr's first build: the call of `.evcxr_display()` on `42`.
    DisplayAttempt,
}

/// How evcxr's code ends the attempt to show a final expression through its own method.
const DISPLAY_ATTEMPT: &str = ").evcxr_display();";

impl LeaveOut {
    /// What the key of a kept build holds of it.
    pub fn describe(&self) -> String {
        let names = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(" ");
        match self {
            LeaveOut::UnchangedBodies(declares) => {
                format!("unchanged bodies, the cell declaring {}", names(declares))
            }
            LeaveOut::Unreached(Some(declares)) => {
                format!("unreached code, the cell declaring {}", names(declares))
            }
            LeaveOut::Unreached(None) => "unreached code, the cell's names unknown".to_string(),
            LeaveOut::DisplayAttempt => "the display attempt of evcxr's start".to_string(),
        }
    }

    /// Writes the crate `source` lighter over its root `root`. When nothing is left out, the
    /// file is not touched; when writing fails, the crate is compiled whole.
    pub fn write(&self, root: &Path, source: &str) {
        let lighter = match self {
            LeaveOut::UnchangedBodies(declares) => {
                notebook::leave_out_unchanged_bodies(source, declares)
            }
            LeaveOut::Unreached(declares) => {
                notebook::leave_out_of_a_run(source, declares.as_ref())
            }
            LeaveOut::DisplayAttempt => source
                .contains(DISPLAY_ATTEMPT)
                .then(|| source.replace(DISPLAY_ATTEMPT, ");")),
        };
        let Some(lighter) = lighter else {
            return;
        };
        if let Err(error) = std::fs::write(root, lighter) {
            eprintln!("cellar: could not write {}: {error}", root.display());
            let _ = std::fs::write(root, source);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CELL_CRATE: &str = "fn old() -> u8 {\n    1\n}\n#[unsafe(no_mangle)]\npub extern \"C\" fn run_user_code_2(\nmut evcxr_variable_store: *mut evcxr_internal_runtime::VariableStore)\n  -> *mut evcxr_internal_runtime::VariableStore {\nlet unused = evcxr_variable_store.take_variable::<u8>(stringify!(unused));\nevcxr_variable_store.put_variable::<u8>(stringify!(unused), unused);\nevcxr_variable_store\n}\n";

    #[test]
    fn each_kind_of_build_writes_its_own_lighter_crate() {
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path().join("lib.rs");
        let declares = BTreeSet::from(["new".to_string()]);
        LeaveOut::UnchangedBodies(declares.clone()).write(&root, CELL_CRATE);
        let checked = std::fs::read_to_string(&root).unwrap();
        assert!(
            checked.contains("fn old() -> u8 { loop {}\n\n}"),
            "{checked}"
        );
        LeaveOut::Unreached(Some(declares)).write(&root, CELL_CRATE);
        let run = std::fs::read_to_string(&root).unwrap();
        assert!(run.contains("fn old() -> u8 {\n    1\n}"), "{run}");
        assert!(!run.contains("take_variable"), "{run}");
        assert_eq!(run.lines().count(), CELL_CRATE.lines().count());
        let start = "pub extern \"C\" fn run_user_code_0() {\n(\n42\n).evcxr_display();\n}\n";
        LeaveOut::DisplayAttempt.write(&root, start);
        let shown_by_no_one = std::fs::read_to_string(&root).unwrap();
        assert_eq!(
            shown_by_no_one,
            "pub extern \"C\" fn run_user_code_0() {\n(\n42\n);\n}\n"
        );
    }

    #[test]
    fn a_crate_with_nothing_to_leave_out_is_not_written() {
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path().join("lib.rs");
        LeaveOut::Unreached(None).write(&root, "fn main() {}\n");
        LeaveOut::DisplayAttempt.write(&root, "fn main() {}\n");
        assert!(!root.exists());
    }

    #[test]
    fn every_kind_and_set_of_names_is_described_apart() {
        let names = BTreeSet::from(["a".to_string()]);
        let descriptions = BTreeSet::from([
            LeaveOut::UnchangedBodies(names.clone()).describe(),
            LeaveOut::UnchangedBodies(BTreeSet::new()).describe(),
            LeaveOut::Unreached(Some(names)).describe(),
            LeaveOut::Unreached(Some(BTreeSet::new())).describe(),
            LeaveOut::Unreached(None).describe(),
            LeaveOut::DisplayAttempt.describe(),
        ]);
        assert_eq!(descriptions.len(), 6);
    }
}
