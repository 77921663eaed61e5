//! The store library: the variable store's work, compiled once into the seed folder.
//!
//! Each cell crate's store calls it (`compact_store.rs`), and the rustc wrapper links the cell's
//! library to it, by its path. Its file name carries a hash of its source, so a kept build
//! (whose key holds rustc's arguments) never links a library of another source.

use anyhow::{Context, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::super::seed_libraries;

/// Names the library (set by the kernel for the wrapper processes cargo starts).
pub const LIBRARY_ENV: &str = "CELLAR_VARIABLE_STORE_LIBRARY";
/// The library's source.
const SOURCE: &str = include_str!("store_library.rs");

/// The library's path in `folder` (the seed folder).
pub fn path_in(folder: &Path) -> PathBuf {
    let hash = blake3::hash(SOURCE.as_bytes()).to_hex();
    folder.join(format!("variable-store-{}.so", &hash[..16]))
}

/// The library named by the kernel, when it is there: without it, cells keep evcxr's store.
pub fn from_env() -> Option<PathBuf> {
    existing(std::env::var_os(LIBRARY_ENV)?)
}

fn existing(path: impl Into<PathBuf>) -> Option<PathBuf> {
    let path = path.into();
    path.is_file().then_some(path)
}

/// The rustc argument that links a cell's library to `library`.
pub fn link_argument(library: &Path) -> OsString {
    let mut argument = OsString::from("-Clink-arg=");
    argument.push(library);
    argument
}

/// Builds the library into `folder`, with the `rustc` cells are built with, linked to the
/// standard library's shared library as cells are (one `std` in the cell process).
/// Libraries of other sources (an earlier kernel's) are removed: no new build links them.
pub fn build(folder: &Path) -> Result<PathBuf> {
    let library = path_in(folder);
    let options = ["prefer-dynamic", "opt-level=2"];
    seed_libraries::compile(SOURCE, &library, &options, "the variable store library")?;
    let earlier = std::fs::read_dir(folder)
        .with_context(|| format!("listing {}", folder.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| *path != library && is_store_library(path));
    for path in earlier {
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    }
    Ok(library)
}

fn is_store_library(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with("variable-store-") && name.ends_with(".so"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn the_library_exports_the_stores_functions_and_replaces_earlier_ones() {
        let folder = tempfile::tempdir().unwrap();
        let earlier = folder.path().join("variable-store-0123456789abcdef.so");
        let other = folder.path().join("item-cell-library.so");
        std::fs::write(&earlier, b"an earlier kernel's").unwrap();
        std::fs::write(&other, b"kept").unwrap();
        let library = build(folder.path()).unwrap();
        assert!(!earlier.exists());
        assert!(other.exists());
        assert_eq!(library, path_in(folder.path()));
        let names = Command::new("nm").arg("-D").arg(&library).output().unwrap();
        let names = String::from_utf8_lossy(&names.stdout);
        for name in ["new", "get", "insert", "holds", "take", "merge"] {
            assert!(
                names.contains(&format!(" T cellar_store_{name}\n")),
                "{name}: {names}"
            );
        }
    }

    #[test]
    fn the_link_argument_names_the_library() {
        assert_eq!(
            link_argument(Path::new("/seed/variable-store-0123.so")),
            "-Clink-arg=/seed/variable-store-0123.so"
        );
    }

    #[test]
    fn a_missing_library_is_not_named() {
        let folder = tempfile::tempdir().unwrap();
        assert_eq!(existing(path_in(folder.path())), None);
        std::fs::write(path_in(folder.path()), b"built").unwrap();
        assert_eq!(
            existing(path_in(folder.path())),
            Some(path_in(folder.path()))
        );
    }
}
