//! How the cells' own crate is compiled, apart from their dependencies.
//!
//! evcxr compiles every crate of a cell's build alike: opt-level 2 unless `:opt` says otherwise,
//! incremental. Dependencies (the runtime, `:dep` crates) are built once, so that costs them
//! nothing later; the cell crate is built on every run. At level 1 it compiles in about half
//! the time while the user's loops run as fast, and without incremental state it skips loading
//! and saving a query cache that a new crate per cell seldom reuses (BENCHMARKS.md). So the
//! kernel, which is the rustc wrapper evcxr calls, rewrites the cell crate's flags. A user who
//! runs `:opt` chooses for every crate, and the kernel steps aside: the level lives in a file
//! of the kernel's workspace, removed then.

use super::rustc_wrapper;
use std::ffi::{OsStr, OsString};
use std::path::Path;

/// Names the file that holds the level (set for the wrapper processes cargo starts).
pub const FILE_ENV: &str = "CELLAR_CELL_OPT_LEVEL_FILE";

/// The level cells are built at until the user runs `:opt`.
pub const CELLS: &str = "1";

/// Sets the cells' level for this kernel.
pub fn choose(file: &Path, level: &str) -> std::io::Result<()> {
    std::fs::write(file, level)
}

/// The user chose a level with `:opt`: every crate follows evcxr's.
pub fn step_aside() {
    if let Some(file) = std::env::var_os(FILE_ENV) {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => eprintln!("cellar: could not hand the opt-level back to evcxr: {error}"),
        }
    }
}

/// Whether a cell line sets evcxr's optimisation level.
pub fn sets_level(cell: &str) -> bool {
    super::commands::has_command_line(cell, &[":opt"])
}

/// The level the kernel chose for cells, when it has one.
pub fn chosen() -> Option<String> {
    let file = std::env::var_os(FILE_ENV)?;
    let level = std::fs::read_to_string(file).ok()?;
    let level = level.trim();
    (!level.is_empty()).then(|| level.to_string())
}

/// Codegen options (`-C name=…`) the kernel sets or removes for the cell crate.
const REPLACED: [&str; 2] = ["opt-level=", "incremental="];

/// rustc's arguments for the cell crate: opt-level `level`, no incremental state; other crates'
/// unchanged. `None` when nothing changes.
pub fn rewrite(args: &[OsString], level: &str) -> Option<Vec<OsString>> {
    if rustc_wrapper::crate_name(args) != Some(rustc_wrapper::CELL_CRATE) {
        return None;
    }
    let mut out = Vec::with_capacity(args.len() + 2);
    let mut rest = args.iter().peekable();
    while let Some(arg) = rest.next() {
        let next_is_replaced = rest.peek().is_some_and(|next| is_replaced(next));
        if arg == "-C" && next_is_replaced {
            rest.next();
        } else if !arg
            .to_str()
            .and_then(|a| a.strip_prefix("-C"))
            .is_some_and(|option| is_replaced(OsStr::new(option)))
        {
            out.push(arg.clone());
        }
    }
    out.push("-C".into());
    out.push(format!("opt-level={level}").into());
    Some(out)
}

fn is_replaced(option: &OsStr) -> bool {
    option
        .to_str()
        .is_some_and(|o| REPLACED.iter().any(|prefix| o.starts_with(prefix)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<OsString> {
        text.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn the_cell_crate_gets_the_chosen_level() {
        let cell = args("rustc --crate-name ctx src/lib.rs -C opt-level=2 -C embed-bitcode=no");
        let out = rewrite(&cell, "1").unwrap();
        assert_eq!(
            out,
            args("rustc --crate-name ctx src/lib.rs -C embed-bitcode=no -C opt-level=1")
        );
        let joined = args("rustc --crate-name ctx -Copt-level=3 -Cincremental=/t/i x.rs");
        assert_eq!(
            rewrite(&joined, "1").unwrap(),
            args("rustc --crate-name ctx x.rs -C opt-level=1")
        );
        // Level 0 is cargo's default: it passes no flag at all.
        assert_eq!(
            rewrite(&args("rustc --crate-name ctx x.rs"), "1").unwrap(),
            args("rustc --crate-name ctx x.rs -C opt-level=1")
        );
    }

    #[test]
    fn the_cell_crate_keeps_no_incremental_state() {
        let cell = args("rustc --crate-name ctx -C incremental=/t/incremental -C opt-level=2 x.rs");
        assert_eq!(
            rewrite(&cell, "1").unwrap(),
            args("rustc --crate-name ctx x.rs -C opt-level=1")
        );
    }

    #[test]
    fn dependencies_keep_their_flags() {
        assert_eq!(
            rewrite(
                &args("rustc --crate-name serde -C opt-level=2 -C incremental=/t/i"),
                "1"
            ),
            None
        );
    }

    #[test]
    fn opt_commands_are_found_on_any_line() {
        assert!(sets_level(":dep rand\n:opt 2\n1"));
        assert!(!sets_level("let opt = 1;"));
    }
}
