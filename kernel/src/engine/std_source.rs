//! The standard library's source as evcxr's rust-analyzer reads it: the crates cells name, not
//! the whole workspace std is built from, with their macros already expanded.
//!
//! Before building a cell, evcxr asks rust-analyzer (in the kernel's process) for the type of
//! each variable the cell defines. rust-analyzer first indexes the standard library's source:
//! left to itself it loads the toolchain's `library` workspace through `cargo metadata` (which
//! downloads the workspace's crates when cargo's cache lacks them), so with `core`, `alloc` and
//! `std` come std's own dependencies (`libc`, `hashbrown`, `gimli`…) and `core::arch`'s thousands
//! of SIMD intrinsics. That indexing is most of evcxr's start and of the
//! first cell that defines a variable.
//!
//! The kernel points rust-analyzer (`RUST_SRC_PATH`) at a copy made once per toolchain beside
//! the seed. It has no `Cargo.toml`, so rust-analyzer takes the standard crates one by one (its
//! "stitched" sysroot) without std's dependencies, and `core::arch` and `core::simd` (portable
//! SIMD, unstable) are empty. What is lost: the type of a variable set by a SIMD intrinsic is not
//! found, and evcxr asks for it to be written out. A `RUST_SRC_PATH` the user set is left alone.
//!
//! Most of what is left of that indexing is rust-analyzer expanding the macros `core`, `alloc`
//! and `std` write their impls with (one per integer type and operator, per tuple length…), and
//! expanding them again whenever it needs an impl's source, which it keeps few of. So each of
//! the three is one file in the copy: the toolchain's rustc's own expansion of the crate
//! (`-Zunpretty=expanded`, allowed on a stable rustc by `RUSTC_BOOTSTRAP`), with its modules
//! inlined, its doc comments kept and what its cfgs leave out on this machine gone. rustc
//! reports errors meanwhile (imports of the crates the copy lacks, the files it leaves out) and
//! prints the expansion all the same; the unresolved imports stay as written for rust-analyzer
//! to resolve. When rustc gives no expansion of one of them, all three stay as copied. The
//! expansions leave out their functions' bodies, which rust-analyzer parses but a variable's
//! type does not need (`signatures_only`).

use super::folder_copy::{copy_folder, Transfer};
use super::signatures_only;
use super::unused_std_copies;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// rust-analyzer's variable for the standard library's source.
const SOURCE_ENV: &str = "RUST_SRC_PATH";

/// The crates rust-analyzer's stitched sysroot looks for, each as `<name>/src/lib.rs`.
const CRATES: &[&str] = &[
    "alloc",
    "backtrace",
    "core",
    "panic_abort",
    "panic_unwind",
    "proc_macro",
    "profiler_builtins",
    "std",
    "test",
    "unwind",
];

/// Where rust-analyzer's stitched sysroot looks for `std_detect` (`is_x86_feature_detected!`),
/// which newer toolchains keep at `library/std_detect`.
const STD_DETECT: &str = "stdarch/crates/std_detect";

/// The crates replaced by their expansion, the three every cell crate depends on.
const EXPANDED: &[&str] = &["core", "alloc", "std"];

/// How the copies' folders in the seed begin (`std-source-<key>`, and `std-source.partial-…`
/// while one is made).
const COPY_PREFIX: &str = "std-source";

/// What a copy holds, in its folder's name: a kernel makes a copy anew when this changes.
const COPY_FORMAT: &str = "expanded-signatures";

/// Modules `core` and `std` include by path, left empty, with what they hold.
const EMPTIED: &[(&str, &str)] = &[
    (
        "stdarch/crates/core_arch/src/mod.rs",
        "pub mod arch {\n    pub mod x86 {}\n    pub mod x86_64 {}\n}\n",
    ),
    (
        "portable-simd/crates/core_simd/src/mod.rs",
        "pub mod simd {}\n",
    ),
    ("portable-simd/crates/std_float/src/lib.rs", ""),
];

/// Points rust-analyzer at the copy for the toolchain whose target libraries are in `libdir`
/// (`rustc --print target-libdir`), making it in `seed` first if need be. Without rust-src, or
/// when the copy cannot be made, rust-analyzer keeps reading the toolchain's own source.
/// Call before any thread starts: it sets a process environment variable.
pub fn point_analysis_at_copy(seed: &Path, libdir: &Path) {
    if std::env::var_os(SOURCE_ENV).is_some() {
        return;
    }
    let Some(library) = toolchain_library(libdir) else {
        return;
    };
    let rustc = crate::toolchain::rustc_beside(libdir).unwrap_or_else(|| "rustc".into());
    match copy_for_analysis(&library, seed, &rustc) {
        Ok(copy) => {
            if let Err(error) = unused_std_copies::mark_used(&copy) {
                eprintln!("cellar: could not mark {} as used: {error}", copy.display());
            }
            for removed in unused_std_copies::forget_unused(seed, COPY_PREFIX, &copy) {
                eprintln!("cellar: removed {removed}, a copy of the standard library source no kernel started with for two weeks");
            }
            std::env::set_var(SOURCE_ENV, copy)
        }
        Err(error) => {
            eprintln!("cellar: rust-analyzer reads the whole standard library source: {error:#}")
        }
    }
}

/// The toolchain's `library` folder (the rust-src component), beside its target libraries.
fn toolchain_library(libdir: &Path) -> Option<PathBuf> {
    let rustlib = libdir.parent()?.parent()?;
    let library = rustlib.join("src").join("rust").join("library");
    library.join("core").is_dir().then_some(library)
}

/// The copy of `library` in `seed`, made if it is not there yet (its crates expanded by `rustc`).
/// Its folder is named after the toolchain's files, so a toolchain update gets a new copy. Two
/// kernels starting at once each build their own and the first to finish names it.
fn copy_for_analysis(library: &Path, seed: &Path, rustc: &Path) -> Result<PathBuf> {
    let copy = seed.join(format!("{COPY_PREFIX}-{}", toolchain_key(library)?));
    if copy.join("core").is_dir() {
        return Ok(copy);
    }
    let partial = seed.join(format!(
        "{COPY_PREFIX}.partial-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let named = write_copy(library, &partial, rustc).and_then(|()| {
        std::fs::rename(&partial, &copy).or_else(|error| {
            // Another kernel named its copy first: that one serves.
            if copy.join("core").is_dir() {
                Ok(())
            } else {
                Err(error).with_context(|| format!("naming {}", copy.display()))
            }
        })
    });
    let _ = std::fs::remove_dir_all(&partial);
    named.map(|()| copy)
}

/// Tells one toolchain's standard library source from another's (where it is, and the size and
/// modification time of `core` and `std`'s roots), and one format of the copy from another.
fn toolchain_key(library: &Path) -> Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(COPY_FORMAT.as_bytes());
    hasher.update(library.as_os_str().as_encoded_bytes());
    for root in ["core/src/lib.rs", "std/src/lib.rs"] {
        let path = library.join(root);
        let metadata =
            std::fs::metadata(&path).with_context(|| format!("reading {}", path.display()))?;
        let modified = metadata
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        hasher.update(&metadata.len().to_le_bytes());
        hasher.update(&modified.as_nanos().to_le_bytes());
    }
    Ok(hasher.finalize().to_hex()[..16].to_string())
}

/// Writes the copy into `to`: each crate's `src`, `std_detect` where rust-analyzer looks for it,
/// and the emptied modules; then the expanded crates.
fn write_copy(library: &Path, to: &Path, rustc: &Path) -> Result<()> {
    for name in CRATES {
        let source = library.join(name).join("src");
        if source.is_dir() {
            copy_folder(&source, &to.join(name).join("src"), SOURCE, every_file)?;
        }
    }
    for std_detect in ["std_detect", STD_DETECT] {
        let source = library.join(std_detect).join("src");
        if source.is_dir() {
            copy_folder(
                &source,
                &to.join(STD_DETECT).join("src"),
                SOURCE,
                every_file,
            )?;
            break;
        }
    }
    for (path, text) in EMPTIED {
        let path = to.join(path);
        std::fs::create_dir_all(path.parent().expect("a module path has a folder"))?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    expand_crates(library, to, rustc)
}

/// Replaces `core`, `alloc` and `std` in the copy `to` by their expansions, all three or none
/// (std includes files of core's folder, which an expanded core replaces).
fn expand_crates(library: &Path, to: &Path, rustc: &Path) -> Result<()> {
    let expanded: Result<Vec<(PathBuf, Vec<u8>)>> = EXPANDED
        .iter()
        .map(|name| (name, to.join(name).join("src")))
        .filter(|(_, source)| source.is_dir())
        .map(|(name, source)| {
            let edition = edition(library, name);
            expand(rustc, name, &edition, &source.join("lib.rs"))
                .with_context(|| format!("expanding `{name}`"))
                .map(|text| (source, without_bodies(text, &edition)))
        })
        .collect();
    match expanded {
        Ok(expanded) => {
            for (source, text) in expanded {
                std::fs::remove_dir_all(&source)
                    .and_then(|()| std::fs::create_dir(&source))
                    .and_then(|()| std::fs::write(source.join("lib.rs"), text))
                    .with_context(|| format!("writing {}", source.display()))?;
            }
        }
        Err(error) => {
            eprintln!("cellar: rust-analyzer reads the standard crates unexpanded: {error:#}")
        }
    }
    Ok(())
}

/// rustc's expansion of the crate `name` whose root is `lib`: one file of Rust.
fn expand(rustc: &Path, name: &str, edition: &str, lib: &Path) -> Result<Vec<u8>> {
    let output = std::process::Command::new(rustc)
        .env("RUSTC_BOOTSTRAP", "1")
        .args([
            "-Zunpretty=expanded",
            "--crate-type",
            "lib",
            "--crate-name",
            name,
        ])
        .args(["--edition", edition])
        .arg(lib)
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("running {}", rustc.display()))?;
    if output.stdout.is_empty() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        anyhow::bail!(
            "rustc printed no expansion: {}",
            stderr.lines().next().unwrap_or("")
        );
    }
    Ok(output.stdout)
}

/// `expansion` with its functions' bodies left out (`signatures_only`), when it is text that
/// still parses as well without them.
fn without_bodies(expansion: Vec<u8>, edition: &str) -> Vec<u8> {
    match String::from_utf8(expansion) {
        Ok(text) => match signatures_only::without_bodies(&text, edition) {
            Some(reduced) => reduced.into_bytes(),
            None => text.into_bytes(),
        },
        Err(not_text) => not_text.into_bytes(),
    }
}

/// The edition the toolchain's `library/<name>/Cargo.toml` builds the crate with.
fn edition(library: &Path, name: &str) -> String {
    std::fs::read_to_string(library.join(name).join("Cargo.toml"))
        .ok()
        .and_then(|manifest| {
            manifest.lines().find_map(|line| {
                let value = line
                    .trim()
                    .strip_prefix("edition")?
                    .trim()
                    .strip_prefix('=')?;
                Some(value.trim().trim_matches('"').to_string())
            })
        })
        .unwrap_or_else(|| "2024".to_string())
}

/// What the copy is made of, as errors name it.
const SOURCE: &str = "the standard library source";

/// Every file is copied, none linked to the toolchain's: the emptied modules are written over.
fn every_file(_: &Path) -> Transfer {
    Transfer::Copy
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A "rustc" that prints no expansion: the crates stay as copied.
    const NO_RUSTC: &str = "false";

    /// A toolchain's layout with a few files: `<sysroot>/lib/rustlib/{<target>/lib, src/rust/library}`.
    fn toolchain(root: &Path, std_detect: &str) -> (PathBuf, PathBuf) {
        let libdir = root.join("lib/rustlib/x86_64-unknown-linux-gnu/lib");
        let library = root.join("lib/rustlib/src/rust/library");
        std::fs::create_dir_all(&libdir).unwrap();
        for (path, text) in [
            ("Cargo.toml", "[workspace]"),
            ("core/src/lib.rs", "mod core_arch;"),
            ("core/src/num/mod.rs", "pub struct Wrapping;"),
            ("core/tests/lib.rs", "#[test] fn t() {}"),
            ("std/src/lib.rs", "pub use core::*;"),
            (
                "stdarch/crates/core_arch/src/mod.rs",
                "pub mod arch { pub fn _mm() {} }",
            ),
            (
                &format!("{std_detect}/src/lib.rs"),
                "macro_rules! is_x86 {}",
            ),
        ] {
            let path = library.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        (libdir, library)
    }

    #[test]
    fn the_copy_holds_the_crates_sources_and_empties_arch_and_simd() {
        let dir = tempfile::tempdir().unwrap();
        let (libdir, library) = toolchain(&dir.path().join("toolchain"), "std_detect");
        assert_eq!(toolchain_library(&libdir), Some(library.clone()));
        let seed = dir.path().join("seed");
        let copy = copy_for_analysis(&library, &seed, Path::new(NO_RUSTC)).unwrap();
        let read = |path: &str| std::fs::read_to_string(copy.join(path)).unwrap();
        assert_eq!(read("core/src/num/mod.rs"), "pub struct Wrapping;");
        assert_eq!(read("std/src/lib.rs"), "pub use core::*;");
        assert_eq!(
            read("stdarch/crates/std_detect/src/lib.rs"),
            "macro_rules! is_x86 {}"
        );
        assert!(!read("stdarch/crates/core_arch/src/mod.rs").contains("_mm"));
        assert_eq!(
            read("portable-simd/crates/core_simd/src/mod.rs"),
            "pub mod simd {}\n"
        );
        assert!(
            !copy.join("Cargo.toml").exists(),
            "a Cargo.toml would make it a workspace"
        );
        assert!(!copy.join("core/tests").exists());
        let left: Vec<_> = std::fs::read_dir(&seed).unwrap().flatten().collect();
        assert_eq!(left.len(), 1, "no partial copy is left behind");
    }

    #[test]
    fn a_made_copy_is_used_again_and_a_changed_toolchain_gets_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let (_, library) = toolchain(&dir.path().join("toolchain"), "stdarch/crates/std_detect");
        let seed = dir.path().join("seed");
        let first = copy_for_analysis(&library, &seed, Path::new(NO_RUSTC)).unwrap();
        assert!(first.join("stdarch/crates/std_detect/src/lib.rs").is_file());
        std::fs::write(first.join("core/src/marker.rs"), "kept").unwrap();
        assert_eq!(
            copy_for_analysis(&library, &seed, Path::new(NO_RUSTC)).unwrap(),
            first
        );
        assert!(first.join("core/src/marker.rs").is_file());

        std::fs::write(library.join("core/src/lib.rs"), "mod core_arch; mod newer;").unwrap();
        let second = copy_for_analysis(&library, &seed, Path::new(NO_RUSTC)).unwrap();
        assert_ne!(second, first);
        assert!(!second.join("core/src/marker.rs").exists());
    }

    /// A `library` of three small crates: core's with a macro and a module in a file of its own.
    fn small_library(root: &Path, std_source: &str) -> PathBuf {
        let library = root.join("library");
        for (path, text) in [
            ("core/Cargo.toml", "[package]\nname = \"core\"\nedition = \"2021\"\n"),
            (
                "core/src/lib.rs",
                "#![no_std]\nmacro_rules! unit_structs { ($($name:ident)*) => { $(pub struct $name;)* } }\n\
                 unit_structs!(Alpha Beta);\npub mod num;\n",
            ),
            ("core/src/num/mod.rs", "/// Wraps around.\npub struct Wrapping;\n"),
            ("alloc/src/lib.rs", "pub struct Boxed;\n"),
            ("std/src/lib.rs", std_source),
        ] {
            let path = library.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        library
    }

    #[test]
    fn core_alloc_and_std_become_rustcs_expansion_of_them() {
        let dir = tempfile::tempdir().unwrap();
        let library = small_library(dir.path(), "pub fn from_std() {}\n");
        let seed = dir.path().join("seed");
        let copy = copy_for_analysis(&library, &seed, Path::new("rustc")).unwrap();
        let core = std::fs::read_to_string(copy.join("core/src/lib.rs")).unwrap();
        assert!(
            core.contains("pub struct Alpha;") && core.contains("pub struct Beta;"),
            "{core}"
        );
        assert!(
            !core.contains("unit_structs!("),
            "the invocation is expanded: {core}"
        );
        assert!(
            core.contains("pub struct Wrapping;") && core.contains("Wraps around."),
            "{core}"
        );
        assert!(!copy.join("core/src/num").exists(), "the module is inlined");
        let std = std::fs::read_to_string(copy.join("std/src/lib.rs")).unwrap();
        assert!(std.contains("pub fn from_std()"), "{std}");
        assert_eq!(edition(&library, "core"), "2021");
        assert_eq!(
            edition(&library, "std"),
            "2024",
            "no manifest: the edition of std's own"
        );
    }

    #[test]
    fn when_one_crate_has_no_expansion_all_three_stay_as_copied() {
        let dir = tempfile::tempdir().unwrap();
        let library = small_library(dir.path(), "pub fn unfinished( {\n");
        let copy =
            copy_for_analysis(&library, &dir.path().join("seed"), Path::new("rustc")).unwrap();
        let core = std::fs::read_to_string(copy.join("core/src/lib.rs")).unwrap();
        assert!(core.contains("unit_structs!(Alpha Beta);"), "{core}");
        assert!(copy.join("core/src/num/mod.rs").is_file());
        assert_eq!(
            std::fs::read_to_string(copy.join("std/src/lib.rs")).unwrap(),
            "pub fn unfinished( {\n"
        );
    }

    #[test]
    fn a_toolchain_without_rust_src_has_no_library() {
        let dir = tempfile::tempdir().unwrap();
        let libdir = dir.path().join("lib/rustlib/x86_64-unknown-linux-gnu/lib");
        std::fs::create_dir_all(&libdir).unwrap();
        assert_eq!(toolchain_library(&libdir), None);
    }

    #[test]
    fn a_seed_that_cannot_hold_the_copy_is_an_error_that_says_where() {
        let dir = tempfile::tempdir().unwrap();
        let (_, library) = toolchain(&dir.path().join("toolchain"), "std_detect");
        let file = dir.path().join("not-a-folder");
        std::fs::write(&file, "").unwrap();
        let error = format!(
            "{:#}",
            copy_for_analysis(&library, &file, Path::new(NO_RUSTC)).unwrap_err()
        );
        assert!(error.contains("not-a-folder"), "{error}");
    }
}
