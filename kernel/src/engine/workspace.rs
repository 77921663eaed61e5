//! The folders one kernel works in.
//!
//! evcxr reads its settings from `evcxr.toml` in `EVCXR_CONFIG_DIR`; ours turns static linking
//! off from the first compile (so one `static` in `cellar` is shared by every cell, instead of a
//! new copy per cell) and makes `cellar` and `serde` (the runtime's `cellar-serde`) dependencies
//! of every cell: in a kernel, their stand-ins when the seed's libraries can be linked
//! (`runtime_stand_ins`). Cells compile in a build folder taken from the pool beside the seed
//! (`build_folders`), which starts as a copy of what `cellar-kernel install` built, so the
//! first cell does not compile the runtime; the cells every kernel compiled are kept beside the
//! pool (`compiled_cells`), and so are the variable store's library (`variable_store`) and the
//! copy of the standard library's source evcxr's rust-analyzer reads (`std_source`). The
//! kernel's own folder holds the settings and the store where the cell process keeps copies of
//! `cache_data` entries, so they survive the process; it goes with the kernel (`kernel_folder`).

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

use super::build_folders::{self, BuildFolder};
use super::kernel_folder::KernelFolder;
use super::runtime_stand_ins::{self, RuntimeDependencies};
use super::{
    analysis_view, cell_crate_flags, checked_cells, compiled_cells, std_source, variable_store,
    wrapper_reports, EnginePaths,
};
use crate::runtime_source::RuntimePaths;
use cellar::protocol::{CONTROL_SOCKET_ENV, SESSION_FILE_ENV, STORE_DIR_ENV};

/// The folder of compiled cells inside the seed folder, beside the pool of build folders.
const COMPILED_CELLS: &str = "compiled-cells";

pub struct Workspace {
    pub dir: PathBuf,
    /// Where evcxr builds the cells.
    build: PathBuf,
    /// The seed folder: beside the pool, the cells any kernel compiled (`compiled_cells`), what
    /// a cell of items only loads (`checked_cells`) and the standard library's source as
    /// rust-analyzer reads it (`std_source`).
    seed: PathBuf,
    /// How the cells depend on the runtime at first (`runtime_stand_ins`).
    dependencies: RuntimeDependencies,
    /// The evcxr commands that give the cells the whole runtime.
    whole_runtime: String,
    /// The build folder from the pool, held while the kernel runs (none for the seed itself).
    _build: Option<BuildFolder>,
    /// A kernel's own folder, removed when the workspace is dropped (none for the seed, which
    /// later kernels keep using).
    _own: Option<KernelFolder>,
}

impl Workspace {
    /// A fresh folder for one kernel, building in a folder of the seed's pool. When the pool
    /// cannot be used (a read-only data folder), the kernel builds in a copy of the seed of its
    /// own, as slow to restart as it is safe.
    pub fn for_kernel(runtime: &RuntimePaths) -> Result<Workspace> {
        let kernel_folder = KernelFolder::create(&std::env::temp_dir())?;
        let dir = kernel_folder.path.clone();
        let (build, held) = match build_folders::take(&runtime.seed) {
            Ok(folder) => (folder.path.clone(), Some(folder)),
            Err(error) => {
                eprintln!("cellar: building in a folder of this kernel's own: {error:#}");
                let own = dir.join("build");
                if runtime.seed.join("build").is_dir() {
                    super::folder_copy::copy_build_folder(&runtime.seed.join("build"), &own)?;
                }
                (own, None)
            }
        };
        let dependencies = runtime_stand_ins::choose(&build, runtime);
        Workspace::at(dir, build, held, runtime, dependencies, Some(kernel_folder))
    }

    /// The seed folder itself, for `cellar-kernel install` to build the runtime into.
    pub fn seed(runtime: &RuntimePaths) -> Result<Workspace> {
        let build = runtime.seed.join("build");
        Workspace::at(
            runtime.seed.clone(),
            build,
            None,
            runtime,
            RuntimeDependencies::Whole,
            None,
        )
    }

    fn at(
        dir: PathBuf,
        build: PathBuf,
        held: Option<BuildFolder>,
        runtime: &RuntimePaths,
        dependencies: RuntimeDependencies,
        own: Option<KernelFolder>,
    ) -> Result<Workspace> {
        for folder in [&dir, &build] {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("creating the folder {}", folder.display()))?;
        }
        let lines = runtime_stand_ins::dependency_lines(dependencies, runtime)?;
        let config = evcxr_toml(&build, &lines);
        std::fs::write(dir.join("evcxr.toml"), config).context("writing evcxr.toml")?;
        let workspace = Workspace {
            dir,
            build,
            seed: runtime.seed.clone(),
            dependencies,
            whole_runtime: runtime_stand_ins::whole_dependency_lines(runtime),
            _build: held,
            _own: own,
        };
        Ok(workspace)
    }

    /// Points evcxr (and, through the environment the cell process inherits, the runtime) here.
    /// Call before any thread starts: it sets process environment variables.
    pub fn export_env(&self) {
        std::env::set_var("EVCXR_CONFIG_DIR", &self.dir);
        std::env::set_var(SESSION_FILE_ENV, self.session_file());
        std::env::set_var(STORE_DIR_ENV, self.store_dir());
        std::env::set_var(cell_crate_flags::FILE_ENV, self.cell_work_file());
        std::env::set_var(CONTROL_SOCKET_ENV, self.dir.join("control.sock"));
        std::env::set_var(wrapper_reports::SOCKET_ENV, self.wrapper_reports_socket());
        std::env::set_var(compiled_cells::DIR_ENV, self.seed.join(COMPILED_CELLS));
        std::env::set_var(
            checked_cells::LIBRARY_ENV,
            self.seed.join(checked_cells::LIBRARY_FILE),
        );
        std::env::set_var(
            variable_store::library::LIBRARY_ENV,
            variable_store::library::path_in(&self.seed),
        );
        analysis_view::set_for_analysis();
        if let Some(libdir) = crate::toolchain::target_libdir() {
            std_source::point_analysis_at_copy(&self.seed, &libdir);
            crate::toolchain::name_rustc_in_env(&libdir);
            // Dependencies are shared libraries linked against the toolchain's libstd.so; rustc
            // (loading proc macros) and the cell process must find it. The relative rpath rustc
            // records does not survive copying the seed, so name the folder outright.
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

    /// Where the kernel serves the remote tier to its cell process (`remote_tier::serve`).
    pub fn remote_socket(&self) -> PathBuf {
        self.dir.join("remote.sock")
    }

    /// What the cell being built does, for the rustc wrapper (see `cell_crate_flags`).
    pub fn cell_work_file(&self) -> PathBuf {
        self.dir.join("cell-work")
    }

    /// What the engine works with.
    pub fn engine_paths(&self) -> EnginePaths {
        EnginePaths {
            session_file: self.session_file(),
            build: self.build.clone(),
            wrapper_reports_socket: self.wrapper_reports_socket(),
            cell_work: self.cell_work_file(),
            runtime_dependencies: self.dependencies,
            whole_runtime: self.whole_runtime.clone(),
        }
    }

    fn wrapper_reports_socket(&self) -> PathBuf {
        self.dir.join("wrapper-reports.sock")
    }

    pub fn session_file(&self) -> PathBuf {
        self.dir.join("session")
    }

    /// Where the cell process copies `cache_data` entries so they outlive it.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.join("store")
    }
}

/// `dependencies` are the cells' dependencies on the runtime (`runtime_stand_ins`), one a line.
fn evcxr_toml(build: &Path, dependencies: &str) -> String {
    format!(
        "[evcxr]\ntmpdir = {}\nallow_static_linking = false\npreserve_vars_on_panic = true\n\n\
         [dependencies]\n{dependencies}\n",
        toml_string(&build.to_string_lossy()),
    )
}

/// A TOML basic string.
pub(super) fn toml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_turns_static_linking_off_and_adds_the_runtime() {
        let text = evcxr_toml(
            Path::new("/k/build"),
            "cellar = { path = \"/src/runtime\" }",
        );
        assert!(text.contains("allow_static_linking = false"));
        assert!(text.contains("tmpdir = \"/k/build\""));
        assert!(text.contains("[dependencies]\ncellar = { path = \"/src/runtime\" }\n"));
    }

    #[test]
    fn paths_are_quoted_for_toml() {
        assert_eq!(toml_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
