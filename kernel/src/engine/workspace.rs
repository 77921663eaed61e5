//! The folder one kernel builds its cells in.
//!
//! evcxr reads its settings from `evcxr.toml` in `EVCXR_CONFIG_DIR`; ours turns static linking
//! off from the first compile (so one `static` in `cellar` is shared by every cell, instead of a
//! new copy per cell) and makes `cellar` and `serde` dependencies of every cell. The build folder
//! must not be shared by two kernels running at once, so each kernel gets its own, copied from a
//! seed that `cellar-kernel install` built once: the first cell does not compile the runtime.
//! The folder also holds the store where the cell process keeps copies of `cache_data` entries,
//! so they survive the process; it goes with the kernel.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

use cellar::protocol::{SESSION_FILE_ENV, STORE_DIR_ENV};

/// Environment variable naming the seed build folder (overrides the default location).
pub const SEED_DIR_ENV: &str = "CELLAR_SEED_DIR";
/// Environment variable naming the `cellar` runtime crate cells depend on.
pub const RUNTIME_DIR_ENV: &str = "CELLAR_RUNTIME_DIR";

pub struct Workspace {
    pub dir: PathBuf,
    /// Removed on drop: a kernel's own folder, not the seed.
    temporary: bool,
}

impl Workspace {
    /// A fresh folder for one kernel, seeded from the install-time build when there is one.
    pub fn for_kernel() -> Result<Workspace> {
        let dir =
            std::env::temp_dir().join(format!("cellar-kernel-{}", uuid::Uuid::new_v4().simple()));
        let seed = seed_dir();
        if seed.join("build").is_dir() {
            copy_tree(&seed.join("build"), &dir.join("build"))?;
        }
        Workspace::at(dir, true)
    }

    /// The seed folder itself, for `cellar-kernel install` to build the runtime into.
    pub fn seed() -> Result<Workspace> {
        Workspace::at(seed_dir(), false)
    }

    fn at(dir: PathBuf, temporary: bool) -> Result<Workspace> {
        let build = dir.join("build");
        std::fs::create_dir_all(&build).with_context(|| format!("creating {}", build.display()))?;
        let config = evcxr_toml(&build, &runtime_dir());
        std::fs::write(dir.join("evcxr.toml"), config).context("writing evcxr.toml")?;
        Ok(Workspace { dir, temporary })
    }

    /// Points evcxr (and, through the environment the cell process inherits, the runtime) here.
    /// Call before any thread starts: it sets process environment variables.
    pub fn export_env(&self) {
        std::env::set_var("EVCXR_CONFIG_DIR", &self.dir);
        std::env::set_var(SESSION_FILE_ENV, self.session_file());
        std::env::set_var(STORE_DIR_ENV, self.store_dir());
        // Dependencies are shared libraries linked against the toolchain's libstd.so; rustc
        // (loading proc macros) and the cell process must find it. The relative rpath rustc
        // records does not survive copying the seed, so name the folder outright.
        if let Some(libdir) = toolchain_libdir() {
            let mut paths = vec![libdir];
            paths.extend(
                std::env::var_os("LD_LIBRARY_PATH")
                    .iter()
                    .flat_map(std::env::split_paths),
            );
            if let Ok(joined) = std::env::join_paths(paths) {
                std::env::set_var("LD_LIBRARY_PATH", joined);
            }
        }
    }

    pub fn session_file(&self) -> PathBuf {
        self.dir.join("session")
    }

    /// Where the cell process copies `cache_data` entries so they outlive it.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.join("store")
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The folder of the toolchain's libstd shared library (`rustc --print target-libdir`).
fn toolchain_libdir() -> Option<PathBuf> {
    let out = std::process::Command::new("rustc")
        .args(["--print", "target-libdir"])
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    dir.is_dir().then_some(dir)
}

/// Where the install-time build lives: `$CELLAR_SEED_DIR`, else the user's cache folder.
pub fn seed_dir() -> PathBuf {
    std::env::var_os(SEED_DIR_ENV)
        .map(PathBuf::from)
        .or_else(|| {
            dirs::cache_dir().map(|dir| {
                dir.join("cellar")
                    .join(concat!("seed-", env!("CARGO_PKG_VERSION")))
            })
        })
        .unwrap_or_else(|| std::env::temp_dir().join("cellar-seed"))
}

/// The `cellar` crate cells link: `$CELLAR_RUNTIME_DIR`, else the one beside this kernel's source.
pub fn runtime_dir() -> PathBuf {
    let dir = std::env::var_os(RUNTIME_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("runtime")
        });
    dir.canonicalize().unwrap_or(dir)
}

fn evcxr_toml(build: &Path, runtime: &Path) -> String {
    let path = |p: &Path| toml_string(&p.to_string_lossy());
    format!(
        "[evcxr]\ntmpdir = {}\nallow_static_linking = false\npreserve_vars_on_panic = true\n\n\
         [dependencies]\ncellar = {{ path = {} }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\n",
        path(build),
        path(runtime),
    )
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// Copies a build folder keeping modification times, so cargo sees the copy as up to date.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", from.display()))
        .arg(to)
        .status()
        .context("running cp")?;
    anyhow::ensure!(
        status.success(),
        "copying the seed build {} failed",
        from.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_turns_static_linking_off_and_adds_the_runtime() {
        let text = evcxr_toml(Path::new("/k/build"), Path::new("/src/runtime"));
        assert!(text.contains("allow_static_linking = false"));
        assert!(text.contains("tmpdir = \"/k/build\""));
        assert!(text.contains("cellar = { path = \"/src/runtime\" }"));
    }

    #[test]
    fn paths_are_quoted_for_toml() {
        assert_eq!(toml_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
