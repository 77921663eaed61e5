//! What evcxr's rustc wrapper does to the cell crate's arguments, done in the wrapper the kernel
//! already is, so a cell's build starts the kernel binary once instead of twice.
//!
//! With dependencies built as shared libraries (`EVCXR_FORCE_DYLIB`), evcxr's wrapper changes
//! each rustc call: every `--extern NAME=lib….rlib` names the shared library beside the rlib
//! when there is one, `--extern <EVCXR_CORE_EXTERN>` links the standard library's, and
//! `-C prefer-dynamic` is added when missing. It reads the arguments of its own process, so when
//! the kernel changes the cell crate's arguments it started the binary again for evcxr: about
//! 5 ms a cell. The cell crate's call is simple; the kernel makes the same changes and runs rustc
//! itself. A call with anything more (a static library to link whole, a `lib` crate type evcxr
//! adds `dylib` to, evcxr's own build cache) still goes through evcxr's wrapper.
//!
//! After a build, evcxr's wrapper writes where the cell's library is, and so does the kernel:
//! otherwise evcxr would load cargo's copy outside the folder of the libraries it links.

use super::rustc_wrapper::{option_values, CELL_CRATE};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Set when evcxr's build cache (`:cache`) is on: its wrapper then looks builds up too.
const EVCXR_CACHE: &str = "EVCXR_CACHE_ENABLED";
/// Where evcxr wants the path of the library it will load.
const LIBRARY_PATH_FILE: &str = "EVCXR_EXECUTION_SO_PATH";

/// The rustc call evcxr's wrapper would make for the cell crate's `args` (rustc first); None
/// when the call needs evcxr's wrapper itself. `core_extern` is `EVCXR_CORE_EXTERN`.
pub fn rustc_command(args: &[OsString], core_extern: &OsStr) -> Option<Command> {
    if std::env::var_os(EVCXR_CACHE).is_some() {
        return None;
    }
    let (rustc, rest) = args.split_first()?;
    let mut command = Command::new(rustc);
    let mut prefer_dynamic = false;
    let mut rest = rest.iter().peekable();
    while let Some(arg) = rest.next() {
        let text = arg.to_str()?;
        if text.starts_with("-l") {
            return None;
        }
        prefer_dynamic |= text == "-Cprefer-dynamic"
            || (text == "-C" && rest.peek().is_some_and(|next| *next == "prefer-dynamic"));
        command.arg(arg);
        match text {
            "--crate-type" => {
                let crate_type = rest.next()?;
                if crate_type == "lib" {
                    return None;
                }
                command.arg(crate_type);
            }
            "--extern" => {
                command.arg(shared_library_extern(rest.next()?.to_str()?));
            }
            _ => {}
        }
    }
    command.arg("--extern").arg(core_extern);
    if !prefer_dynamic {
        command.args(["-C", "prefer-dynamic"]);
    }
    Some(command)
}

/// Tells evcxr which library to load: the cell crate's, in rustc's output folder (`args`).
pub fn tell_evcxr_the_library(args: &[OsString]) -> std::io::Result<()> {
    match option_values(args, "--out-dir").next() {
        Some(out_dir) => tell_evcxr_the_library_is(&cell_library(Path::new(out_dir))),
        None => Ok(()),
    }
}

/// Tells evcxr the library it will load is `library`.
pub fn tell_evcxr_the_library_is(library: &Path) -> std::io::Result<()> {
    match std::env::var_os(LIBRARY_PATH_FILE) {
        Some(file) => std::fs::write(file, library.as_os_str().as_encoded_bytes()),
        None => Ok(()),
    }
}

/// The cell crate's shared library (`libctx.so`) in rustc's output folder `out_dir`.
pub fn cell_library(out_dir: &Path) -> PathBuf {
    let (prefix, suffix) = (std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    out_dir.join(format!("{prefix}{CELL_CRATE}{suffix}"))
}

/// `NAME=PATH` of an `--extern`, naming the shared library beside an rlib when there is one.
fn shared_library_extern(extern_arg: &str) -> OsString {
    let Some((name, path)) = extern_arg.split_once('=') else {
        return extern_arg.into();
    };
    let library = shared_library_beside(Path::new(path));
    if library.exists() {
        format!("{name}={}", library.display()).into()
    } else {
        extern_arg.into()
    }
}

/// Where cargo puts the shared library of a dependency whose rlib is `rlib` (it may not be
/// there: not every dependency is built as one).
pub fn shared_library_beside(rlib: &Path) -> PathBuf {
    let mut library = rlib.to_path_buf();
    if let Some(stem) = library
        .file_name()
        .and_then(OsStr::to_str)
        .and_then(|file| file.strip_prefix("lib"))
    {
        library = library.with_file_name(format!("{}{stem}", std::env::consts::DLL_PREFIX));
    }
    library.with_extension(std::env::consts::DLL_EXTENSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<OsString> {
        line.split_whitespace().map(OsString::from).collect()
    }

    fn arguments(command: &Command) -> Vec<String> {
        std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn externs_name_the_shared_library_beside_the_rlib_and_std_is_linked() {
        let deps = tempfile::tempdir().unwrap();
        let rlib = deps.path().join("libserde-abc.rlib");
        std::fs::write(&rlib, "").unwrap();
        std::fs::write(deps.path().join("libserde-abc.so"), "").unwrap();
        let missing = deps.path().join("libonly-def.rlib");
        let line = format!(
            "rustc --crate-name ctx --crate-type cdylib src/lib.rs -Cprefer-dynamic --extern serde={} --extern only={} --extern=core=/std.rmeta",
            rlib.display(),
            missing.display()
        );
        let command = rustc_command(&args(&line), OsStr::new("core=/std.so")).unwrap();
        let serde_so = deps.path().join("libserde-abc.so");
        assert_eq!(
            arguments(&command),
            [
                "rustc",
                "--crate-name",
                "ctx",
                "--crate-type",
                "cdylib",
                "src/lib.rs",
                "-Cprefer-dynamic",
                "--extern",
                &format!("serde={}", serde_so.display()),
                "--extern",
                &format!("only={}", missing.display()),
                "--extern=core=/std.rmeta",
                "--extern",
                "core=/std.so",
            ]
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_cell_crates_library_is_named_as_rustc_names_it() {
        assert_eq!(
            cell_library(Path::new("/deps")),
            Path::new("/deps/libctx.so")
        );
    }

    #[test]
    fn prefer_dynamic_is_added_once() {
        let line = "rustc --crate-name ctx src/lib.rs";
        let added = arguments(&rustc_command(&args(line), OsStr::new("core=/s.so")).unwrap());
        assert_eq!(added[added.len() - 2..], ["-C", "prefer-dynamic"]);
        let given = "rustc --crate-name ctx src/lib.rs -C prefer-dynamic";
        let kept = arguments(&rustc_command(&args(given), OsStr::new("core=/s.so")).unwrap());
        assert_eq!(kept.iter().filter(|a| *a == "prefer-dynamic").count(), 1);
    }

    #[test]
    fn calls_with_more_than_the_cell_crate_has_go_through_evcxrs_wrapper() {
        let core = OsStr::new("core=/s.so");
        for line in [
            "rustc --crate-name ctx src/lib.rs -l static=native",
            "rustc --crate-name ctx src/lib.rs -lstatic=native",
            "rustc --crate-name ctx --crate-type lib src/lib.rs",
            "rustc --crate-name ctx src/lib.rs --extern",
        ] {
            assert!(rustc_command(&args(line), core).is_none(), "{line}");
        }
    }
}
