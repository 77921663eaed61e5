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
//! The same re-run builds the cell crate the kernel's way (see `cell_crate_build`), builds
//! nothing for the runtime's stand-ins (see `runtime_stand_ins`), and tells the
//! kernel which crate starts compiling and when the cell crate's build ran (see
//! `wrapper_reports`). The process that runs cells first gets the user's `RUSTFLAGS` back (see
//! `analysis_view`).

use super::analysis_view;
use super::build_timing::{self, CellBuild};
use super::cell_crate_build::CellCrateBuild;
use super::runtime_stand_ins;
use super::wrapper_reports::{self, WrapperReport};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

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
    if is_rustc_wrapper() {
        if let Some(code) = wrap_rustc() {
            std::process::exit(code);
        }
    }
    if std::env::var_os(CELL_PROCESS).is_some() {
        analysis_view::take_out();
    }
    evcxr::runtime_hook();
}

/// Whether evcxr started this process as its rustc wrapper (and not the wrapper's own re-run).
fn is_rustc_wrapper() -> bool {
    std::env::var_os(WRAP_RUSTC).is_some()
        && std::env::var_os(FORCE_DYLIB).is_some()
        && std::env::var_os(ADJUSTED).is_none()
}

/// Makes the rustc call cargo asked for, with the kernel's changes, and returns its exit code;
/// `None` when the kernel changes nothing, and evcxr's wrapper makes the call.
fn wrap_rustc() -> Option<i32> {
    let began = build_timing::boot_clock();
    without_huge_pages();
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if runtime_stand_ins::builds_stand_in() {
        return Some(match runtime_stand_ins::write_placeholders(&args) {
            Ok(()) => 0,
            Err(error) => {
                eprintln!("cellar: could not write the runtime stand-in's placeholders: {error}");
                101
            }
        });
    }
    match crate_name(&args) {
        Some(CELL_CRATE) => {
            let code = CellCrateBuild::plan(args)?.run();
            if let Some(cargo_began) = build_timing::parent_began() {
                wrapper_reports::send(&WrapperReport::CellBuilt(CellBuild {
                    cargo_began,
                    rustc_began: began,
                    rustc_ended: build_timing::boot_clock(),
                }));
            }
            Some(code)
        }
        // Any other crate only needs the standard library's metadata named.
        name => {
            if let Some(name) = name.filter(|name| *name != PROBE_CRATE) {
                wrapper_reports::send(&WrapperReport::Compiling {
                    crate_name: name.to_string(),
                });
            }
            let mut args = args;
            args.push(core_metadata_extern()?);
            Some(exit_code(
                evcxrs_wrapper(&args).and_then(|mut command| command.status()),
            ))
        }
    }
}

/// evcxr's wrapper for rustc's `args`, in a new process of this binary.
pub fn evcxrs_wrapper(args: &[OsString]) -> std::io::Result<Command> {
    let mut command = Command::new(std::env::current_exe()?);
    command.args(args).env(ADJUSTED, "1");
    Ok(command)
}

/// The exit code for cargo of a rustc run.
pub fn exit_code(status: std::io::Result<ExitStatus>) -> i32 {
    match status {
        Ok(status) => status.code().unwrap_or(101),
        Err(error) => {
            eprintln!("cellar: could not run rustc: {error}");
            101
        }
    }
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
    let value = core_library_extern()?;
    Some(PathBuf::from(value.to_str()?.strip_prefix("core=")?))
}

/// `EVCXR_CORE_EXTERN`: the `--extern` value linking every crate against the standard library.
pub fn core_library_extern() -> Option<OsString> {
    std::env::var_os(CORE_EXTERN)
}

/// The `--extern` argument naming `libstd-*.rmeta` beside the `libstd-*.so` evcxr names, when
/// the toolchain ships one.
pub fn core_metadata_extern() -> Option<OsString> {
    let rmeta = core_library()?.with_extension("rmeta");
    rmeta
        .is_file()
        .then(|| format!("--extern=core={}", rmeta.display()).into())
}
