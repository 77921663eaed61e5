//! How the cells' own crate is compiled, apart from their dependencies.
//!
//! evcxr compiles every crate of a cell's build alike: opt-level 2 unless `:opt` says otherwise,
//! incremental. Dependencies (the runtime, `:dep` crates) are built once, so that costs them
//! nothing later; the cell crate is built on every run. So the kernel, which is the rustc
//! wrapper evcxr calls, rewrites the cell crate's flags, cell by cell:
//! - a cell that runs statements is built at level 1: it compiles in about half the time of
//!   level 2 while the user's loops run as fast (BENCHMARKS.md);
//! - a cell of items only runs nothing of the user's: its build is only checked and kept, so
//!   it is built at level 0, a fifth to a half quicker again in the notebooks measured. Each
//!   later cell builds those items anew, at its own level, before they run;
//! - no incremental state: a new crate per cell seldom reuses the query cache, and loading and
//!   saving it cost every build.
//!
//! A cell of items only is not even compiled: it is checked (see `checked_cells`).
//!
//! The kernel writes what the cell does (items only, or statements) in a file of its workspace
//! before each build, and the wrapper takes the level from it. A user who runs `:opt` chooses
//! for every crate, and the kernel steps aside: the file is removed then.
//!
//! A second line names what the cell declares, when the kernel can tell (`declares NAME…`):
//! what the build leaves out depends on it (`lighter_crates`).
//!
//! Before evcxr starts, the file says so: evcxr's first build, of `42`, shows nothing anyone
//! sees, and is made without the display attempt that would fail and have evcxr build it again
//! (see `cell_crate_build`). Once evcxr has started, the file says the builds run statements,
//! until a cell says what it does.

use super::notebook::CellWork;
use super::rustc_wrapper;
use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::Path;

/// Names the file that holds what the cell does (set for the wrapper processes cargo starts).
pub const FILE_ENV: &str = "CELLAR_CELL_WORK_FILE";

/// Who chooses the cell crate's opt-level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelChoice {
    /// The kernel, per cell ([`level_for`]).
    Kernel,
    /// The user, with `:opt`: evcxr's level for every crate.
    User,
}

/// The level a cell's crate is built at.
pub fn level_for(work: CellWork) -> &'static str {
    match work {
        CellWork::DefinesOnly => "0",
        CellWork::RunsStatements => "1",
    }
}

/// The word before the names a cell declares.
const DECLARES: &str = "declares";
/// What the file says while evcxr starts.
const EVCXR_START: &str = "evcxr start";

/// Says that the next build is evcxr's first, at its start.
pub fn choose_evcxr_start(file: &Path) -> std::io::Result<()> {
    std::fs::write(file, EVCXR_START)
}

/// evcxr has started: until a cell says what it does, its builds run statements.
pub fn evcxr_started(file: &Path) -> std::io::Result<()> {
    choose(file, CellWork::RunsStatements, None)
}

/// Says what the cell of the next builds does, and the names it declares when known.
pub fn choose(
    file: &Path,
    work: CellWork,
    declares: Option<&BTreeSet<String>>,
) -> std::io::Result<()> {
    let mut text = work_name(work).to_string();
    if let Some(names) = declares {
        text.push_str(&format!("\n{DECLARES}"));
        for name in names {
            text.push(' ');
            text.push_str(name);
        }
    }
    std::fs::write(file, text)
}

/// The user chose a level with `:opt`: every crate follows evcxr's.
pub fn step_aside(file: &Path) {
    match std::fs::remove_file(file) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => eprintln!("cellar: could not hand the opt-level back to evcxr: {error}"),
    }
}

/// Whether a cell line sets evcxr's optimisation level.
pub fn sets_level(cell: &str) -> bool {
    super::commands::has_command_line(cell, &[":opt"])
}

/// What the kernel said of the build being made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChosenBuild {
    /// evcxr's first build, at its start: `42`, whose result no one sees.
    EvcxrStart,
    /// A cell's build.
    Cell {
        work: CellWork,
        /// The names the cell declares, when the kernel could tell.
        declares: Option<BTreeSet<String>>,
    },
}

/// What the build being made is, when the kernel chooses how it is built.
pub fn chosen() -> Option<ChosenBuild> {
    read(Path::new(&std::env::var_os(FILE_ENV)?))
}

fn read(file: &Path) -> Option<ChosenBuild> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    if first.trim() == EVCXR_START {
        return Some(ChosenBuild::EvcxrStart);
    }
    let work = [CellWork::DefinesOnly, CellWork::RunsStatements]
        .into_iter()
        .find(|work| work_name(*work) == first.trim())?;
    let declares = lines.next().and_then(|line| {
        let mut words = line.split_whitespace();
        (words.next()? == DECLARES).then(|| words.map(str::to_string).collect())
    });
    Some(ChosenBuild::Cell { work, declares })
}

fn work_name(work: CellWork) -> &'static str {
    match work {
        CellWork::DefinesOnly => "items",
        CellWork::RunsStatements => "statements",
    }
}

/// Codegen options (`-C name…`) the kernel sets or removes for the cell crate.
const REPLACED: [&str; 4] = ["opt-level=", "incremental=", "codegen-units=", "lto"];

/// What the cell crate gets besides its level: four codegen units without the ThinLTO pass
/// that joins them. On two cores that builds a cell that runs statements about a sixth faster
/// than sixteen units joined by ThinLTO, and its loops measured the same.
const CELL_CODEGEN: [&str; 2] = ["codegen-units=4", "lto=off"];

/// rustc's arguments for the cell crate: opt-level `level`, [`CELL_CODEGEN`], no incremental
/// state; other crates' unchanged. `None` when nothing changes.
pub fn rewrite(args: &[OsString], level: &str) -> Option<Vec<OsString>> {
    if rustc_wrapper::crate_name(args) != Some(rustc_wrapper::CELL_CRATE) {
        return None;
    }
    let mut out = Vec::with_capacity(args.len() + 6);
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
    let level = format!("opt-level={level}");
    for option in std::iter::once(level.as_str()).chain(CELL_CODEGEN) {
        out.push("-C".into());
        out.push(option.into());
    }
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

    /// What every rewritten cell crate ends with, after `-C opt-level=…`.
    const CODEGEN: &str = " -C codegen-units=4 -C lto=off";

    #[test]
    fn the_cell_crate_gets_the_chosen_level() {
        let cell = args("rustc --crate-name ctx src/lib.rs -C opt-level=2 -C embed-bitcode=no");
        let out = rewrite(&cell, "1").unwrap();
        assert_eq!(
            out,
            args(&format!(
                "rustc --crate-name ctx src/lib.rs -C embed-bitcode=no -C opt-level=1{CODEGEN}"
            ))
        );
        let joined = args("rustc --crate-name ctx -Copt-level=3 -Cincremental=/t/i -Clto x.rs");
        assert_eq!(
            rewrite(&joined, "0").unwrap(),
            args(&format!(
                "rustc --crate-name ctx x.rs -C opt-level=0{CODEGEN}"
            ))
        );
        // Level 0 is cargo's default: it passes no flag at all.
        assert_eq!(
            rewrite(&args("rustc --crate-name ctx x.rs"), "1").unwrap(),
            args(&format!(
                "rustc --crate-name ctx x.rs -C opt-level=1{CODEGEN}"
            ))
        );
    }

    #[test]
    fn the_cell_crate_keeps_no_incremental_state_and_four_codegen_units() {
        let cell = args(
            "rustc --crate-name ctx -C incremental=/t/incremental -C codegen-units=16 -C opt-level=2 x.rs",
        );
        assert_eq!(
            rewrite(&cell, "1").unwrap(),
            args(&format!(
                "rustc --crate-name ctx x.rs -C opt-level=1{CODEGEN}"
            ))
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
    fn cells_that_run_nothing_are_built_at_level_0() {
        assert_eq!(level_for(CellWork::DefinesOnly), "0");
        assert_eq!(level_for(CellWork::RunsStatements), "1");
    }

    #[test]
    fn the_file_names_what_the_cell_does() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cell-work");
        let chosen = |work, declares| Some(ChosenBuild::Cell { work, declares });
        for work in [CellWork::DefinesOnly, CellWork::RunsStatements] {
            choose(&file, work, None).unwrap();
            assert_eq!(read(&file), chosen(work, None));
        }
        let names: BTreeSet<String> = ["Grid".to_string(), "grid".to_string()].into();
        choose(&file, CellWork::DefinesOnly, Some(&names)).unwrap();
        assert_eq!(read(&file), chosen(CellWork::DefinesOnly, Some(names)));
        choose(&file, CellWork::DefinesOnly, Some(&BTreeSet::new())).unwrap();
        assert_eq!(
            read(&file),
            chosen(CellWork::DefinesOnly, Some(BTreeSet::new()))
        );
        choose_evcxr_start(&file).unwrap();
        assert_eq!(read(&file), Some(ChosenBuild::EvcxrStart));
        std::fs::write(&file, "").unwrap();
        assert_eq!(read(&file), None);
    }

    #[test]
    fn opt_commands_are_found_on_any_line() {
        assert!(sets_level(":dep rand\n:opt 2\n1"));
        assert!(!sets_level("let opt = 1;"));
    }
}
