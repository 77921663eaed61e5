//! The start of every process this binary becomes: kernel, cell process, or rustc wrapper.
//!
//! evcxr re-runs the kernel binary for two jobs: as the process that runs cells, and, when
//! dependencies are built as shared libraries, as a wrapper around rustc that turns each
//! library into a dylib. For crates without `std` it links them against the standard library by
//! passing `--extern core=<libstd.so>`. Since Rust 1.95 the standard library's `.so` carries only
//! a metadata stub (the metadata moved to a `.rmeta` beside it), so rustc rejects that alone
//! ("only metadata stub found for `dylib` dependency `core`") and every `no_std` dependency
//! (`cfg-if`, `hashbrown`, `libc`…) fails to build. Naming both files fixes it; `--extern=` in
//! one argument keeps evcxr's wrapper from rewriting the path.
//!
//! The same re-run sets how the cell crate is compiled (see `cell_crate_flags`), takes a cell
//! another kernel compiled from the kept ones (see `compiled_cells`), leaves out of the crate
//! what the build need not compile (see `lighter_crates`), runs rustc on it the way evcxr's
//! wrapper would (see `cell_crate_linking`), and tells the kernel which crate starts compiling
//! and when the cell crate's build ran (see `wrapper_reports`). The process that runs cells
//! first gets the user's `RUSTFLAGS` back (see `analysis_view`).

use super::analysis_view;
use super::build_timing::{self, CellBuild};
use super::cell_crate_flags::{self, ChosenBuild};
use super::cell_crate_linking;
use super::checked_cells::CheckedBuild;
use super::compiled_cells::CompiledCells;
use super::lighter_crates::LeaveOut;
use super::notebook::CellWork;
use super::variable_store;
use super::wrapper_reports::{self, WrapperReport};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const WRAP_RUSTC: &str = "EVCXR_RUSTC_WRAPPER";
const FORCE_DYLIB: &str = "EVCXR_FORCE_DYLIB";
const CORE_EXTERN: &str = "EVCXR_CORE_EXTERN";
/// Set by evcxr for the process that runs cells.
const CELL_PROCESS: &str = "EVCXR_IS_RUNTIME";
/// The crate evcxr builds each cell into.
pub const CELL_CRATE: &str = "ctx";
/// The crate name cargo gives rustc when it only asks what rustc can do.
const PROBE_CRATE: &str = "___";

/// Set on the re-run, so it does not adjust the arguments twice.
const ADJUSTED: &str = "CELLAR_RUSTC_ARGS_ADJUSTED";

/// Hands the process to evcxr when it is a cell process or a rustc wrapper; returns otherwise.
pub fn hand_over() {
    if std::env::var_os(WRAP_RUSTC).is_some()
        && std::env::var_os(FORCE_DYLIB).is_some()
        && std::env::var_os(ADJUSTED).is_none()
    {
        let began = build_timing::boot_clock();
        without_huge_pages();
        let args: Vec<OsString> = std::env::args_os().skip(1).collect();
        let name = crate_name(&args);
        if let Some(name) = name.filter(|name| ![CELL_CRATE, PROBE_CRATE].contains(name)) {
            wrapper_reports::send(&WrapperReport::Compiling {
                crate_name: name.to_string(),
            });
        }
        // The kernel's level, the compact store and the kept builds are the cell crate's only.
        let is_cell = name == Some(CELL_CRATE);
        let cell_crate = is_cell.then(|| crate_root(&args)).flatten().map(|root| {
            variable_store::prepare(root).unwrap_or_else(|error| {
                eprintln!("cellar: {error}");
                std::process::exit(101);
            })
        });
        let CellBuildPlan {
            args: rewritten,
            checked,
            leave_out,
        } = match &cell_crate {
            Some(cell_crate) => cell_build_plan(&args, &cell_crate.source),
            None => CellBuildPlan::default(),
        };
        let (source, store_link) = match cell_crate {
            Some(cell_crate) => (Some(cell_crate.source), cell_crate.link),
            None => (None, None),
        };
        // Only a build rustc makes needs the lighter crate (see `lighter_crates`).
        let root = crate_root(&args).map(Path::to_path_buf);
        let write_lighter_crate = || {
            if let (Some(leave_out), Some(source), Some(root)) = (&leave_out, &source, &root) {
                leave_out.write(root, source);
            }
        };
        let metadata = std_metadata();
        let compiled_cells = is_cell.then(CompiledCells::from_env).flatten();
        if rewritten.is_some()
            || leave_out.is_some()
            || store_link.is_some()
            || metadata.is_some()
            || compiled_cells.is_some()
        {
            let mut args = rewritten.unwrap_or(args);
            args.extend(store_link);
            if let Some(metadata) = metadata {
                args.push(format!("--extern=core={}", metadata.display()).into());
            }
            // evcxr's wrapper reads the arguments of its own process: it runs in a new one,
            // except for the cell crate's call, which this process makes as it would.
            let mut direct = std::env::var_os(CORE_EXTERN)
                .filter(|_| is_cell)
                .and_then(|core| cell_crate_linking::rustc_command(&args, &core));
            let made_here = direct.is_some();
            let mut rustc_call = || match direct.take() {
                Some(command) => Ok(command),
                None => std::env::current_exe().map(|exe| {
                    let mut command = Command::new(exe);
                    command.args(&args).env(ADJUSTED, "1");
                    command
                }),
            };
            // Once rustc passed: evcxr learns which library to load (its wrapper would say), and
            // a checked item cell gets the prepared library; what rustc would say about that
            // library follows what it said.
            let finish = |passed: bool| {
                if passed && made_here {
                    cell_crate_linking::tell_evcxr_the_library(&args)?;
                }
                match (&checked, passed) {
                    (Some(build), true) => build.put_library_in_place().map(Some),
                    _ => Ok(None),
                }
            };
            let code = match compiled_cells {
                Some(cells) => cells.build(&args, leave_out.as_ref(), || {
                    write_lighter_crate();
                    let mut output = rustc_call()?
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .output()?;
                    if let Some(line) = finish(output.status.success())? {
                        output.stderr.extend(format!("{line}\n").into_bytes());
                    }
                    Ok(output)
                }),
                None => {
                    write_lighter_crate();
                    match rustc_call()
                        .and_then(|mut command| command.status())
                        .and_then(|status| {
                            finish(status.success())?.inspect(|line| eprintln!("{line}"));
                            Ok(status)
                        }) {
                        Ok(status) => status.code().unwrap_or(101),
                        Err(error) => {
                            eprintln!("cellar: could not run rustc: {error}");
                            101
                        }
                    }
                }
            };
            if let Some(cargo_began) = is_cell.then(build_timing::parent_began).flatten() {
                wrapper_reports::send(&WrapperReport::CellBuilt(CellBuild {
                    cargo_began,
                    rustc_began: began,
                    rustc_ended: build_timing::boot_clock(),
                }));
            }
            std::process::exit(code);
        }
    }
    if std::env::var_os(CELL_PROCESS).is_some() {
        analysis_view::take_out();
    }
    evcxr::runtime_hook();
}

/// Stops the wrapper's memory from coming in transparent huge pages. mimalloc asks for them,
/// and the kernel zeroes a whole 2 MiB page at the first touch of each: for a process that
/// lives a fraction of a second and allocates a few megabytes, about a fifth of its time. The
/// setting passes on to rustc, which does not ask for them.
fn without_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE only sets a flag of this process; it reads no memory.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// How the kernel has the cell crate built.
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
    let Some(ChosenBuild { work, declares }) = cell_crate_flags::chosen() else {
        return CellBuildPlan::default();
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

/// The values of a rustc option given as two arguments (`--extern NAME=PATH`), in order.
pub fn option_values<'a>(
    args: &'a [OsString],
    option: &'a str,
) -> impl Iterator<Item = &'a OsString> {
    args.windows(2)
        .filter(move |pair| pair[0] == option)
        .map(|pair| &pair[1])
}

/// The crate root a rustc call compiles (its one `.rs` argument), relative to rustc's folder.
pub fn crate_root(args: &[OsString]) -> Option<&Path> {
    args.iter()
        .skip(1)
        .map(Path::new)
        .find(|arg| arg.extension().is_some_and(|e| e == "rs"))
}

/// The crate a rustc call compiles (`--crate-name`).
pub fn crate_name(args: &[OsString]) -> Option<&str> {
    option_values(args, "--crate-name").next()?.to_str()
}

/// The `libstd-*.so` evcxr links every crate against (`EVCXR_CORE_EXTERN=core=<path>`).
pub fn core_library() -> Option<PathBuf> {
    let value = std::env::var_os(CORE_EXTERN)?;
    Some(PathBuf::from(value.to_str()?.strip_prefix("core=")?))
}

/// `libstd-*.rmeta` beside the `libstd-*.so` evcxr names, when the toolchain ships one.
fn std_metadata() -> Option<PathBuf> {
    let rmeta = core_library()?.with_extension("rmeta");
    rmeta.is_file().then_some(rmeta)
}
