//! Cells of items only are checked, not compiled.
//!
//! A cell that only defines items runs nothing of the user's: evcxr loads its library and calls
//! its `run_user_code_N`, which takes each variable out of the store and puts it back. The build
//! is there for its errors and warnings, and every later cell compiles those items anew. So the
//! rustc wrapper asks rustc for what `cargo check` gets (`--emit=dep-info,metadata`: every
//! diagnostic, no code generation, no linking) and gives evcxr a library made once, at install,
//! whose `run_user_code_1` … `run_user_code_4096` hand the store back untouched. That is about a
//! third of a small item cell's build. A build numbered past the library's last function, or
//! without the library, is compiled as before.
//!
//! The check leaves out the earlier items' bodies that cannot fail through what the cell
//! declares (`notebook::leave_out_unchanged_bodies`), when the kernel said what that is: the
//! rustc wrapper writes that lighter crate before the check.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::cell_crate_linking;
use super::rustc_wrapper::option_values;
use super::seed_libraries;

/// Names the library (set by the kernel for the wrapper processes cargo starts).
pub const LIBRARY_ENV: &str = "CELLAR_ITEM_CELL_LIBRARY";
/// The library's file, in the seed folder.
pub const LIBRARY_FILE: &str = "item-cell-library.so";
/// The build numbers the library has a `run_user_code_N` for (evcxr's own first build, at its
/// start, is number 0).
const BUILDS: std::ops::RangeInclusive<u32> = 1..=4096;
/// What cargo asks of rustc for the cell crate, and what the wrapper asks instead.
const EMIT_LINK: &str = "--emit=dep-info,link";
const EMIT_CHECK: &str = "--emit=dep-info,metadata";

/// A build of an item cell: checked by rustc, given the prepared library.
pub struct CheckedBuild {
    library: PathBuf,
    out_dir: PathBuf,
}

impl CheckedBuild {
    /// When the library exists and has the entry point of `source` (the crate rustc is given):
    /// the build, and rustc's arguments that check the crate without compiling it.
    pub fn plan(args: &[OsString], source: &str) -> Option<(CheckedBuild, Vec<OsString>)> {
        let library = PathBuf::from(std::env::var_os(LIBRARY_ENV)?);
        if !library.is_file() {
            return None;
        }
        if !in_library(source) {
            return None;
        }
        let out_dir = PathBuf::from(option_values(args, "--out-dir").next()?);
        let checking = check_only(args)?;
        let build = CheckedBuild { library, out_dir };
        Some((build, checking))
    }

    /// Puts the library where rustc would have written the cell's, once rustc checked it.
    /// Returns the line rustc would have written about it on stderr (an artifact notification),
    /// for what reads those: kept builds record their files from them.
    pub fn put_library_in_place(&self) -> std::io::Result<String> {
        let path = cell_crate_linking::cell_library(&self.out_dir);
        std::fs::copy(&self.library, &path)?;
        let notification = serde_json::json!({
            "$message_type": "artifact",
            "artifact": path.to_string_lossy(),
            "emit": "link",
        });
        Ok(notification.to_string())
    }
}

/// The arguments with cargo's `--emit=dep-info,link` asking for the checks only.
fn check_only(args: &[OsString]) -> Option<Vec<OsString>> {
    args.iter().any(|arg| arg == EMIT_LINK).then(|| {
        args.iter()
            .map(|arg| {
                if arg == EMIT_LINK {
                    OsString::from(EMIT_CHECK)
                } else {
                    arg.clone()
                }
            })
            .collect()
    })
}

/// Whether the library has the entry point evcxr wrote into the cell crate `source`.
fn in_library(source: &str) -> bool {
    build_number(source).is_some_and(|n| BUILDS.contains(&n))
}

/// The `N` of the `run_user_code_N` evcxr wrote into the cell crate.
fn build_number(source: &str) -> Option<u32> {
    let after = source.split("pub extern \"C\" fn run_user_code_").nth(1)?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The library's source: one function under every name evcxr may call, no `std`.
fn library_source() -> String {
    let mut source = String::from(
        "#![no_std]\n#[panic_handler]\nfn panic(_: &core::panic::PanicInfo) -> ! { loop {} }\n",
    );
    for n in BUILDS {
        source.push_str(&format!(
            "#[unsafe(no_mangle)] pub extern \"C\" fn run_user_code_{n}(store: *mut u8) -> *mut u8 {{ store }}\n"
        ));
    }
    source
}

/// Builds the library into `folder` (about a second), with the `rustc` cells are built with.
pub fn build_library(folder: &Path) -> Result<()> {
    let options = [
        "panic=abort",
        "opt-level=1",
        "strip=symbols",
        "force-unwind-tables=no",
    ];
    let library = folder.join(LIBRARY_FILE);
    seed_libraries::compile(
        &library_source(),
        &library,
        &options,
        "the item cells' library",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn args(text: &str) -> Vec<OsString> {
        text.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn the_build_asks_for_checks_only() {
        let cargo = args("rustc --crate-name ctx src/lib.rs --emit=dep-info,link -C opt-level=0");
        assert_eq!(
            check_only(&cargo).unwrap(),
            args("rustc --crate-name ctx src/lib.rs --emit=dep-info,metadata -C opt-level=0")
        );
        assert_eq!(check_only(&args("rustc --emit=metadata src/lib.rs")), None);
    }

    #[test]
    fn the_build_number_is_read_from_the_entry_point() {
        let source = "mod m {}\n#[unsafe(no_mangle)]\npub extern \"C\" fn run_user_code_37(\nmut s: *mut u8)";
        assert_eq!(build_number(source), Some(37));
        assert_eq!(build_number("fn main() {}"), None);
        let entry =
            |n: u32| format!("#[unsafe(no_mangle)]\npub extern \"C\" fn run_user_code_{n}(");
        assert!(in_library(&entry(1)) && in_library(&entry(4096)));
        assert!(!in_library(&entry(0)) && !in_library(&entry(4097)));
    }

    #[test]
    fn the_library_hands_the_store_back_under_every_name() {
        let folder = tempfile::tempdir().unwrap();
        build_library(folder.path()).unwrap();
        let library = folder.path().join(LIBRARY_FILE);
        let names = Command::new("nm").arg("-D").arg(&library).output().unwrap();
        let names = String::from_utf8_lossy(&names.stdout);
        for n in [*BUILDS.start(), 2, *BUILDS.end()] {
            assert!(names.contains(&format!(" T run_user_code_{n}\n")), "{n}");
        }
        assert!(!names.contains(&format!("run_user_code_{}\n", BUILDS.end() + 1)));
        // Loaded as evcxr loads a cell's library, it returns the store it is given.
        let library = std::ffi::CString::new(library.to_str().unwrap()).unwrap();
        let handle = unsafe { libc::dlopen(library.as_ptr(), libc::RTLD_NOW) };
        assert!(!handle.is_null());
        let symbol = unsafe { libc::dlsym(handle, c"run_user_code_4096".as_ptr()) };
        assert!(!symbol.is_null());
        let run: extern "C" fn(*mut u8) -> *mut u8 = unsafe { std::mem::transmute(symbol) };
        let mut store = 7_u8;
        assert_eq!(run(&mut store), &mut store as *mut u8);
    }

    #[test]
    fn the_library_takes_the_place_of_the_cells() {
        let folder = tempfile::tempdir().unwrap();
        let library = folder.path().join(LIBRARY_FILE);
        std::fs::write(&library, b"prepared").unwrap();
        let out_dir = folder.path().join("deps");
        std::fs::create_dir(&out_dir).unwrap();
        let build = CheckedBuild {
            library,
            out_dir: out_dir.clone(),
        };
        let notification = build.put_library_in_place().unwrap();
        let path = out_dir.join("libctx.so");
        assert_eq!(std::fs::read(&path).unwrap(), b"prepared");
        let notification: serde_json::Value = serde_json::from_str(&notification).unwrap();
        assert_eq!(notification["$message_type"], "artifact");
        assert_eq!(notification["artifact"], path.to_str().unwrap());
    }
}
