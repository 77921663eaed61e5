//! Packs the `cellar` runtime crates (and their macro, code generator and `serde` crates) into
//! the kernel.
//!
//! Cells link against `cellar`; a kernel installed with `cargo install` has no checkout to find
//! it in, so the binary carries it. This script copies what building the four crates needs
//! (standalone manifests and `src/`) into `OUT_DIR/runtime/<package>/` and writes
//! `OUT_DIR/embedded_runtime.rs`, the list of those files for `include_bytes!`. Copies, not the
//! checkout's paths: the binary must not depend on where it was built.
//!
//! The sources are found beside the kernel: `../runtime` in the workspace, or, for a kernel
//! built from a registry package, the sibling folders `../cellar-<version>` (…) the registry
//! unpacks its dependencies into.

#[path = "embed/manifest.rs"]
mod manifest;
#[path = "embed/runtime_crates.rs"]
mod runtime_crates;

use runtime_crates::RUNTIME_CRATES;
use std::path::{Path, PathBuf};

/// Where the runtime crates' sources are, and the manifest their workspace fields come from.
struct RuntimeSources {
    /// (package name, its folder)
    crates: Vec<(&'static str, PathBuf)>,
    workspace_manifest: Option<PathBuf>,
}

fn main() {
    let kernel = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let sources = locate(&kernel).unwrap_or_else(|error| panic!("{error}"));
    let files =
        copy_runtime(&sources, &out.join("runtime")).unwrap_or_else(|error| panic!("{error}"));
    write_file_list(&out, &files);
}

fn locate(kernel: &Path) -> Result<RuntimeSources, String> {
    let workspace_runtime = kernel.join("../runtime");
    if workspace_runtime.join("Cargo.toml").is_file() {
        // Relative, so a build in another clone checks that clone's files.
        println!("cargo::rerun-if-changed=../runtime");
        println!("cargo::rerun-if-changed=../Cargo.toml");
        return Ok(RuntimeSources {
            crates: RUNTIME_CRATES
                .iter()
                .map(|krate| (krate.package, workspace_runtime.join(krate.folder)))
                .collect(),
            workspace_manifest: Some(kernel.join("../Cargo.toml")),
        });
    }
    let version = std::env::var("CARGO_PKG_VERSION").expect("set by cargo");
    let crates: Vec<_> = RUNTIME_CRATES
        .iter()
        .map(|krate| {
            (
                krate.package,
                kernel.join(format!("../{}-{version}", krate.package)),
            )
        })
        .collect();
    if let Some((name, dir)) = crates
        .iter()
        .find(|(_, dir)| !dir.join("Cargo.toml").is_file())
    {
        return Err(format!(
            "cellar-kernel carries the `cellar` runtime sources, but found neither the workspace's \
             runtime/ ({}) nor the registry's {name} {version} ({})",
            workspace_runtime.display(),
            dir.display()
        ));
    }
    for (_, dir) in &crates {
        println!("cargo::rerun-if-changed={}", dir.display());
    }
    Ok(RuntimeSources {
        crates,
        workspace_manifest: None,
    })
}

/// Copies each crate's standalone manifest and `src/` under `to`; returns the copied files,
/// relative to `to`.
fn copy_runtime(sources: &RuntimeSources, to: &Path) -> Result<Vec<PathBuf>, String> {
    if to.exists() {
        std::fs::remove_dir_all(to).map_err(|e| format!("clearing {}: {e}", to.display()))?;
    }
    let workspace = match &sources.workspace_manifest {
        Some(path) => read_toml(path)?,
        None => toml::Table::new(),
    };
    let mut files = Vec::new();
    for (name, dir) in &sources.crates {
        let member = read_toml(&dir.join("Cargo.toml"))?;
        let standalone = manifest::standalone(&member, &workspace)
            .map_err(|e| format!("{}: {e}", dir.join("Cargo.toml").display()))?;
        let manifest_text = toml::to_string(&standalone)
            .map_err(|e| format!("writing the manifest of {name}: {e}"))?;
        write(&to.join(name).join("Cargo.toml"), manifest_text.as_bytes())?;
        files.push(Path::new(name).join("Cargo.toml"));
        for file in files_under(&dir.join("src"))? {
            let relative = file.strip_prefix(dir).expect("found under the crate");
            let bytes =
                std::fs::read(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
            write(&to.join(name).join(relative), &bytes)?;
            files.push(Path::new(name).join(relative));
        }
    }
    files.sort();
    Ok(files)
}

fn read_toml(path: &Path) -> Result<toml::Table, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    text.parse()
        .map_err(|e| format!("parsing {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let parent = path.parent().expect("a file in a folder");
    std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    std::fs::write(path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn files_under(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("listing {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("listing {}: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            found.extend(files_under(&path)?);
        } else {
            found.push(path);
        }
    }
    Ok(found)
}

fn write_file_list(out: &Path, files: &[PathBuf]) {
    let mut code = String::from(
        "/// Every file of the runtime crates, by its path inside the unpacked folder (from build.rs).\n\
         pub const FILES: &[(&str, &[u8])] = &[\n",
    );
    for file in files {
        let relative = file
            .to_str()
            .expect("runtime file names are UTF-8")
            .replace('\\', "/");
        let absolute = out.join("runtime").join(file);
        code.push_str(&format!(
            "    ({relative:?}, include_bytes!({:?})),\n",
            absolute.to_str().expect("OUT_DIR is UTF-8")
        ));
    }
    code.push_str("];\n");
    std::fs::write(out.join("embedded_runtime.rs"), code).expect("writing embedded_runtime.rs");
}
