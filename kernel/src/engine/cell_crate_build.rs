//! The cell crate's rustc call as the wrapper makes it. First what the kernel changes: the
//! seed's libraries in place of the runtime's stand-ins (see `runtime_stand_ins`), the
//! level, or a check only (see `cell_crate_flags` and `checked_cells`); the compact store (see
//! `variable_store`); what the build leaves out (see `lighter_crates`), which for evcxr's own
//! first build is its display attempt. Then the run: from the kept builds when another kernel
//! compiled the same cell (`compiled_cells`), otherwise rustc, started from this process the
//! way evcxr's wrapper would (`cell_crate_linking`) or through evcxr's wrapper when the call
//! needs it.

use super::cell_crate_flags::{self, ChosenBuild};
use super::cell_crate_linking;
use super::checked_cells::CheckedBuild;
use super::compiled_cells::CompiledCells;
use super::lighter_crates::LeaveOut;
use super::notebook::CellWork;
use super::runtime_stand_ins;
use super::rustc_wrapper::{self, crate_root};
use super::variable_store;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The cell crate's rustc call, with the kernel's changes.
pub struct CellCrateBuild {
    /// rustc's arguments (rustc first).
    args: Vec<OsString>,
    /// The crate root, relative to rustc's folder.
    root: PathBuf,
    /// The crate's source, as the compact store left it.
    source: String,
    /// The checked build of a cell of items only.
    checked: Option<CheckedBuild>,
    /// What the build leaves out of the crate.
    leave_out: Option<LeaveOut>,
    /// The kept builds, when the kernel keeps them.
    compiled_cells: Option<CompiledCells>,
}

/// Who runs rustc.
#[derive(Clone, Copy, PartialEq)]
enum RustcRunner {
    /// This process, with the changes evcxr's wrapper would make.
    ThisProcess,
    /// evcxr's wrapper, in a new process: it reads the arguments of its own.
    EvcxrsWrapper,
}

impl CellCrateBuild {
    /// The call for cargo's `args` (rustc first), with the kernel's changes; `None` when the
    /// kernel changes nothing and evcxr's wrapper makes the call as it is. Exits when the
    /// crate cannot be given the compact store.
    pub fn plan(mut args: Vec<OsString>) -> Option<CellCrateBuild> {
        let root = crate_root(&args)?.to_path_buf();
        // cargo runs rustc in the build folder.
        let folder = std::env::current_dir().unwrap_or_default();
        let seed_libraries = runtime_stand_ins::link_seed_libraries(&mut args, &folder)
            .unwrap_or_else(|error| {
                eprintln!("cellar: {error}");
                std::process::exit(101);
            });
        if !seed_libraries {
            runtime_stand_ins::record_seed_libraries(&args, &folder);
        }
        let cell_crate = variable_store::prepare(&root).unwrap_or_else(|error| {
            eprintln!("cellar: {error}");
            std::process::exit(101);
        });
        let CellBuildPlan {
            args: rewritten,
            checked,
            leave_out,
        } = cell_build_plan(&args, &cell_crate.source);
        let metadata = rustc_wrapper::core_metadata_extern();
        let compiled_cells = CompiledCells::from_env();
        if rewritten.is_none()
            && !seed_libraries
            && leave_out.is_none()
            && cell_crate.link.is_none()
            && metadata.is_none()
            && compiled_cells.is_none()
        {
            return None;
        }
        let mut args = rewritten.unwrap_or(args);
        args.extend(cell_crate.link);
        args.extend(metadata);
        Some(CellCrateBuild {
            args,
            root,
            source: cell_crate.source,
            checked,
            leave_out,
            compiled_cells,
        })
    }

    /// Builds the crate; returns the exit code for cargo.
    pub fn run(&self) -> i32 {
        match &self.compiled_cells {
            Some(cells) => cells.build(&self.args, self.leave_out.as_ref(), || {
                self.compile_captured()
            }),
            None => rustc_wrapper::exit_code(self.compile()),
        }
    }

    /// Runs rustc with its output captured (for the kept builds).
    fn compile_captured(&self) -> std::io::Result<Output> {
        let (mut command, runner) = self.rustc_command()?;
        let mut output = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()?;
        if let Some(line) = self.after_rustc(output.status.success(), runner)? {
            output.stderr.extend(format!("{line}\n").into_bytes());
        }
        Ok(output)
    }

    /// Runs rustc with its output going to cargo.
    fn compile(&self) -> std::io::Result<std::process::ExitStatus> {
        let (mut command, runner) = self.rustc_command()?;
        let status = command.status()?;
        if let Some(line) = self.after_rustc(status.success(), runner)? {
            eprintln!("{line}");
        }
        Ok(status)
    }

    /// rustc's command, once the crate rustc reads is written: made here when it can be, as
    /// evcxr's wrapper would make it (see `cell_crate_linking`).
    fn rustc_command(&self) -> std::io::Result<(Command, RustcRunner)> {
        // Only a build rustc makes needs the lighter crate (see `lighter_crates`).
        if let Some(leave_out) = &self.leave_out {
            leave_out.write(&self.root, &self.source);
        }
        let here = rustc_wrapper::core_library_extern()
            .and_then(|core| cell_crate_linking::rustc_command(&self.args, &core));
        match here {
            Some(command) => Ok((command, RustcRunner::ThisProcess)),
            None => Ok((
                rustc_wrapper::evcxrs_wrapper(&self.args)?,
                RustcRunner::EvcxrsWrapper,
            )),
        }
    }

    /// Once rustc passed: evcxr learns which library to load (its wrapper would say), and a
    /// checked item cell gets the prepared library. Returns what rustc would have said about
    /// that library, to follow what it said.
    fn after_rustc(&self, passed: bool, runner: RustcRunner) -> std::io::Result<Option<String>> {
        if passed && runner == RustcRunner::ThisProcess {
            cell_crate_linking::tell_evcxr_the_library(&self.args)?;
        }
        match (&self.checked, passed) {
            (Some(build), true) => build.put_library_in_place().map(Some),
            _ => Ok(None),
        }
    }
}

/// What the kernel said of the cell, for its build.
#[derive(Default)]
struct CellBuildPlan {
    /// rustc's arguments, when the kernel changes them (the level, or checks only).
    args: Option<Vec<OsString>>,
    /// The checked build of a cell of items only.
    checked: Option<CheckedBuild>,
    /// What the build leaves out of the crate.
    leave_out: Option<LeaveOut>,
}

/// How the cell crate (`source`) is built, from what the kernel said of the cell.
fn cell_build_plan(args: &[OsString], source: &str) -> CellBuildPlan {
    let (work, declares) = match cell_crate_flags::chosen() {
        None => return CellBuildPlan::default(),
        Some(ChosenBuild::EvcxrStart) => return evcxr_start_plan(args),
        Some(ChosenBuild::Cell { work, declares }) => (work, declares),
    };
    let leveled = cell_crate_flags::rewrite(args, cell_crate_flags::level_for(work));
    if work == CellWork::DefinesOnly {
        if let Some((build, checking)) =
            CheckedBuild::plan(leveled.as_deref().unwrap_or(args), source)
        {
            return CellBuildPlan {
                args: Some(checking),
                checked: Some(build),
                leave_out: declares.map(LeaveOut::UnchangedBodies),
            };
        }
    }
    CellBuildPlan {
        args: leveled,
        checked: None,
        leave_out: Some(LeaveOut::Unreached(declares)),
    }
}

/// evcxr's `42` at its start: no one sees what it shows, so it is built without the display
/// attempt that would fail and have evcxr build it again, at the level of a cell that runs
/// nothing of the user's.
fn evcxr_start_plan(args: &[OsString]) -> CellBuildPlan {
    let level = cell_crate_flags::level_for(CellWork::DefinesOnly);
    CellBuildPlan {
        args: cell_crate_flags::rewrite(args, level),
        checked: None,
        leave_out: Some(LeaveOut::DisplayAttempt),
    }
}
