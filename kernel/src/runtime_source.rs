//! Which `cellar` runtime cells link against, and where its prebuilt seed lives.
//!
//! The kernel binary carries the runtime crates (`cellar`, `cellar-macros`, `cellar-codegen`,
//! `cellar-serde`; see `build.rs`), so an installed kernel needs no checkout: they are unpacked
//! into `<data folder>/cellar/runtime-<version>-<hash>/`, and the seed (the runtime compiled
//! ahead of time) goes beside it in `seed-<version>-<hash>/`. The hash is blake3 of the carried
//! files, so two binaries of the same version with different runtimes never share a folder. A
//! checkout's own kernel (`install/setup.sh`) instead names its `runtime/` in
//! `CELLAR_RUNTIME_DIR` and its own seed in `CELLAR_SEED_DIR`, recorded in the kernelspec.

use crate::runtime_crates::{CELLAR, SERDE};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_runtime.rs"));
}

/// Environment variable naming the `cellar` crate cells depend on (a checkout's `runtime/`).
pub const RUNTIME_DIR_ENV: &str = "CELLAR_RUNTIME_DIR";
/// Environment variable naming the seed build folder.
pub const SEED_DIR_ENV: &str = "CELLAR_SEED_DIR";

const RUNTIME_PREFIX: &str = "runtime-";
const SEED_PREFIX: &str = "seed-";
/// Written last when unpacking: a folder without it is incomplete.
const UNPACKED_MARKER: &str = ".unpacked";

/// Where the runtime comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeSource {
    /// The copy inside this binary.
    Embedded,
    /// A `cellar` crate folder named by `CELLAR_RUNTIME_DIR` (a checkout's `runtime/`).
    Checkout(PathBuf),
}

/// Whether resolving may unpack the embedded runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unpacking {
    /// Unpack it when its folder is missing (a kernel, an install).
    IfMissing,
    /// Only say where it would be (the doctor looks, it does not repair).
    Never,
}

/// The folders one kernel (or one install) works with.
#[derive(Debug, Clone)]
pub struct RuntimePaths {
    pub source: RuntimeSource,
    /// The `cellar` crate cells depend on.
    pub cellar: PathBuf,
    /// The seed build folder.
    pub seed: PathBuf,
    /// Whether `seed` came from `CELLAR_SEED_DIR`.
    pub seed_named: bool,
}

impl RuntimePaths {
    /// Resolves the runtime from the environment, unpacking the embedded one if needed.
    pub fn resolve(unpacking: Unpacking) -> Result<RuntimePaths> {
        let source = match std::env::var_os(RUNTIME_DIR_ENV) {
            Some(dir) if !dir.is_empty() => {
                let dir = PathBuf::from(dir);
                RuntimeSource::Checkout(dir.canonicalize().unwrap_or(dir))
            }
            _ => RuntimeSource::Embedded,
        };
        let cellar = match &source {
            RuntimeSource::Embedded => match unpacking {
                Unpacking::IfMissing => unpack(&data_dir()?)?,
                Unpacking::Never => data_dir()?.join(runtime_folder_name()),
            }
            .join(CELLAR.package),
            RuntimeSource::Checkout(dir) => dir.clone(),
        };
        let named_seed = std::env::var_os(SEED_DIR_ENV).filter(|dir| !dir.is_empty());
        let seed_named = named_seed.is_some();
        let seed = match (named_seed, &source) {
            (Some(dir), _) => absolute(PathBuf::from(dir))?,
            (None, RuntimeSource::Embedded) => data_dir()?.join(seed_folder_name()),
            (None, RuntimeSource::Checkout(dir)) => data_dir()?.join(checkout_seed_name(dir)),
        };
        Ok(RuntimePaths {
            source,
            cellar,
            seed,
            seed_named,
        })
    }

    /// The crate cells name as `serde` (`cellar-serde`): beside `cellar` when unpacked, in its
    /// `serde/` folder in a checkout.
    pub fn serde(&self) -> PathBuf {
        match &self.source {
            RuntimeSource::Embedded => self.cellar.with_file_name(SERDE.package),
            RuntimeSource::Checkout(dir) => dir.join(SERDE.folder),
        }
    }

    pub fn describe(&self) -> String {
        match &self.source {
            RuntimeSource::Embedded => format!(
                "cellar {} carried by this kernel (content {}), unpacked in {}",
                env!("CARGO_PKG_VERSION"),
                &content_hash()[..12],
                self.cellar.display()
            ),
            RuntimeSource::Checkout(dir) => format!("cellar from the checkout {}", dir.display()),
        }
    }
}

/// `<version>-<first 12 hex digits of blake3 over the carried files>`.
pub fn runtime_key() -> String {
    format!("{}-{}", env!("CARGO_PKG_VERSION"), &content_hash()[..12])
}

fn content_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_files(embedded::FILES))
}

fn hash_files(files: &[(&str, &[u8])]) -> String {
    let mut hasher = blake3::Hasher::new();
    for (path, bytes) in files {
        // Lengths first, so no two different file sets hash the same bytes.
        hasher.update(&(path.len() as u64).to_le_bytes());
        hasher.update(path.as_bytes());
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    hasher.finalize().to_hex().to_string()
}

pub fn runtime_folder_name() -> String {
    format!("{RUNTIME_PREFIX}{}", runtime_key())
}

pub fn seed_folder_name() -> String {
    format!("{SEED_PREFIX}{}", runtime_key())
}

/// A checkout's seed, when it names no seed folder itself: one per checkout path.
fn checkout_seed_name(runtime: &Path) -> String {
    let hash = blake3::hash(runtime.to_string_lossy().as_bytes()).to_hex();
    format!("checkout-seed-{}", &hash[..12])
}

/// `<data folder>/cellar` (`$XDG_DATA_HOME/cellar`, else `~/.local/share/cellar` on Linux).
pub fn data_dir() -> Result<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("cellar")).context(
        "finding the user's data folder for the cellar runtime (set HOME or XDG_DATA_HOME)",
    )
}

/// Unpacks the embedded runtime into `data/runtime-<key>` (once) and returns that folder.
pub fn unpack(data: &Path) -> Result<PathBuf> {
    unpack_files(data, &runtime_folder_name(), embedded::FILES)
}

fn unpack_files(data: &Path, folder: &str, files: &[(&str, &[u8])]) -> Result<PathBuf> {
    let target = data.join(folder);
    if target.join(UNPACKED_MARKER).is_file() {
        return Ok(target);
    }
    // Unpack beside it and rename: a kernel starting meanwhile never sees half a runtime.
    let partial = data.join(format!(".{folder}.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    for (path, bytes) in files {
        let file = partial.join(path);
        let parent = file.parent().expect("a file inside the folder");
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the runtime folder {}", parent.display()))?;
        std::fs::write(&file, bytes)
            .with_context(|| format!("writing the runtime file {}", file.display()))?;
    }
    std::fs::write(partial.join(UNPACKED_MARKER), runtime_key())
        .with_context(|| format!("writing {}", partial.join(UNPACKED_MARKER).display()))?;
    if target.exists() && !target.join(UNPACKED_MARKER).is_file() {
        // Left half-written by a process that died; a complete one (another kernel's, finished
        // meanwhile) stays: kernels may be reading it.
        let _ = std::fs::remove_dir_all(&target);
    }
    if let Err(error) = std::fs::rename(&partial, &target) {
        let _ = std::fs::remove_dir_all(&partial);
        // Another process may have finished the same unpacking first.
        if !target.join(UNPACKED_MARKER).is_file() {
            return Err(error)
                .with_context(|| format!("moving the runtime into {}", target.display()));
        }
    }
    Ok(target)
}

/// Removes runtime and seed folders of other versions or contents from `data`; returns them.
pub fn remove_stale(data: &Path) -> Result<Vec<PathBuf>> {
    remove_stale_except(data, &runtime_key())
}

fn remove_stale_except(data: &Path, key: &str) -> Result<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(data) else {
        return Ok(Vec::new());
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_stale(&name, key) {
            let path = entry.path();
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("removing the stale runtime folder {}", path.display()))?;
            removed.push(path);
        }
    }
    removed.sort();
    Ok(removed)
}

/// A `runtime-<key>` or `seed-<key>` folder (or a leftover partial unpacking) of another key.
fn is_stale(name: &str, key: &str) -> bool {
    let name = name.strip_prefix('.').map_or(name, |hidden| {
        hidden.split(".partial-").next().unwrap_or(hidden)
    });
    [RUNTIME_PREFIX, SEED_PREFIX]
        .iter()
        .filter_map(|prefix| name.strip_prefix(prefix))
        .any(|other| other != key)
}

/// Runtime and seed folders of this key, for `uninstall`.
pub fn current_folders(data: &Path) -> [PathBuf; 2] {
    [
        data.join(runtime_folder_name()),
        data.join(seed_folder_name()),
    ]
}

fn absolute(path: PathBuf) -> Result<PathBuf> {
    std::path::absolute(&path).with_context(|| format!("making {} absolute", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILES: &[(&str, &[u8])] = &[
        ("cellar/Cargo.toml", b"[package]\nname = \"cellar\"\n"),
        ("cellar/src/lib.rs", b"pub fn f() {}\n"),
        ("cellar-codegen/src/lib.rs", b"\n"),
    ];

    #[test]
    fn the_binary_carries_the_four_runtime_crates_standalone() {
        let paths: Vec<&str> = embedded::FILES.iter().map(|(path, _)| *path).collect();
        for manifest in [
            "cellar/Cargo.toml",
            "cellar-macros/Cargo.toml",
            "cellar-codegen/Cargo.toml",
            "cellar-serde/Cargo.toml",
        ] {
            assert!(paths.contains(&manifest), "{manifest} in {paths:?}");
        }
        assert!(paths.contains(&"cellar/src/lib.rs"));
        assert!(
            !paths
                .iter()
                .any(|p| p.contains("/benches/") || p.contains("/tests/")),
            "{paths:?}"
        );
        let (_, cellar) = embedded::FILES
            .iter()
            .find(|(p, _)| *p == "cellar/Cargo.toml")
            .unwrap();
        let cellar = std::str::from_utf8(cellar).unwrap();
        assert!(!cellar.contains("workspace"), "{cellar}");
        assert!(!cellar.contains("criterion"), "{cellar}");
        assert!(cellar.contains("path = \"../cellar-macros\""), "{cellar}");
        let (_, serde) = embedded::FILES
            .iter()
            .find(|(p, _)| *p == "cellar-serde/Cargo.toml")
            .unwrap();
        let serde: toml::Table = std::str::from_utf8(serde).unwrap().parse().unwrap();
        // serde stays out of the analysis's view once unpacked, as in the workspace.
        let hidden = &serde["target"]["cfg(not(cellar_analysis))"]["dependencies"]["serde"];
        assert_eq!(hidden["version"].as_str(), Some("1"), "{serde}");
    }

    #[test]
    fn the_crate_cells_name_as_serde_sits_beside_cellar_or_in_the_checkouts_runtime() {
        let unpacked = RuntimePaths {
            source: RuntimeSource::Embedded,
            cellar: "/data/cellar/runtime-x/cellar".into(),
            seed: "/data/cellar/seed-x".into(),
            seed_named: false,
        };
        assert_eq!(
            unpacked.serde(),
            Path::new("/data/cellar/runtime-x/cellar-serde")
        );
        let checkout = RuntimePaths {
            source: RuntimeSource::Checkout("/src/runtime".into()),
            cellar: "/src/runtime".into(),
            seed: "/src/seed".into(),
            seed_named: true,
        };
        assert_eq!(checkout.serde(), Path::new("/src/runtime/serde"));
    }

    #[test]
    fn the_key_names_the_version_and_the_content() {
        let key = runtime_key();
        assert!(
            key.starts_with(concat!(env!("CARGO_PKG_VERSION"), "-")),
            "{key}"
        );
        assert_eq!(key.len(), env!("CARGO_PKG_VERSION").len() + 1 + 12);
        assert_eq!(runtime_folder_name(), format!("runtime-{key}"));
        assert_eq!(seed_folder_name(), format!("seed-{key}"));
    }

    #[test]
    fn the_hash_changes_with_any_file_and_with_where_bytes_fall() {
        let base = hash_files(FILES);
        let mut edited = FILES.to_vec();
        edited[1] = ("cellar/src/lib.rs", b"pub fn g() {}\n");
        assert_ne!(hash_files(&edited), base);
        // The same bytes split differently between name and content.
        assert_ne!(hash_files(&[("ab", b"c")]), hash_files(&[("a", b"bc")]));
        assert_eq!(hash_files(FILES), base);
    }

    #[test]
    fn unpacking_writes_every_file_once_and_marks_the_folder_complete() {
        let data = tempfile::tempdir().unwrap();
        let dir = unpack_files(data.path(), "runtime-1.0.0-abc", FILES).unwrap();
        assert_eq!(dir, data.path().join("runtime-1.0.0-abc"));
        assert_eq!(
            std::fs::read(dir.join("cellar/src/lib.rs")).unwrap(),
            b"pub fn f() {}\n"
        );
        assert!(dir.join(UNPACKED_MARKER).is_file());
        // A second call leaves a complete folder alone (even a file changed in it).
        std::fs::write(dir.join("cellar/src/lib.rs"), "touched").unwrap();
        unpack_files(data.path(), "runtime-1.0.0-abc", FILES).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("cellar/src/lib.rs")).unwrap(),
            "touched"
        );
        // No partial folders are left behind.
        let names: Vec<_> = std::fs::read_dir(data.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("runtime-1.0.0-abc")]);
    }

    #[test]
    fn an_incomplete_folder_is_unpacked_again() {
        let data = tempfile::tempdir().unwrap();
        let half = data.path().join("runtime-1.0.0-abc/cellar");
        std::fs::create_dir_all(&half).unwrap();
        std::fs::write(half.join("Cargo.toml"), "half").unwrap();
        let dir = unpack_files(data.path(), "runtime-1.0.0-abc", FILES).unwrap();
        assert_eq!(
            std::fs::read(dir.join("cellar/Cargo.toml")).unwrap(),
            FILES[0].1
        );
    }

    #[test]
    fn stale_runtimes_and_seeds_go_and_the_rest_stays() {
        let data = tempfile::tempdir().unwrap();
        for name in [
            "runtime-0.1.0-aaaaaaaaaaaa",
            "seed-0.1.0-aaaaaaaaaaaa",
            "runtime-0.0.9-bbbbbbbbbbbb",
            "seed-0.1.0-cccccccccccc",
            ".runtime-0.0.9-bbbbbbbbbbbb.partial-42",
            "checkout-seed-dddddddddddd",
            "notes",
        ] {
            std::fs::create_dir_all(data.path().join(name)).unwrap();
        }
        let removed = remove_stale_except(data.path(), "0.1.0-aaaaaaaaaaaa").unwrap();
        let removed: Vec<_> = removed
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            removed,
            [
                ".runtime-0.0.9-bbbbbbbbbbbb.partial-42",
                "runtime-0.0.9-bbbbbbbbbbbb",
                "seed-0.1.0-cccccccccccc"
            ]
        );
        let mut left: Vec<_> = std::fs::read_dir(data.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "checkout-seed-dddddddddddd",
                "notes",
                "runtime-0.1.0-aaaaaaaaaaaa",
                "seed-0.1.0-aaaaaaaaaaaa"
            ]
        );
    }

    #[test]
    fn a_missing_data_folder_has_nothing_stale() {
        let data = tempfile::tempdir().unwrap();
        assert!(remove_stale_except(&data.path().join("absent"), "k")
            .unwrap()
            .is_empty());
    }
}
