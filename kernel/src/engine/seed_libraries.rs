//! Small shared libraries the kernel compiles once into the seed folder, with the `rustc` cells
//! are built with: the item cells' library (`checked_cells`) and the variable store's
//! (`variable_store::library`).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

/// Compiles the crate `source` into the shared library `library`, with the codegen `options`
/// (`-C` values); `what` names the library in the error.
pub fn compile(source: &str, library: &Path, options: &[&str], what: &str) -> Result<()> {
    let root = library.with_extension("rs");
    std::fs::write(&root, source).with_context(|| format!("writing {}", root.display()))?;
    let output = Command::new("rustc")
        .args(["--edition", "2024", "--crate-type", "cdylib"])
        .args(options.iter().flat_map(|option| ["-C", option]))
        .arg("-o")
        .arg(library)
        .arg(&root)
        .output()
        .context("running rustc")?;
    let _ = std::fs::remove_file(&root);
    anyhow::ensure!(
        output.status.success(),
        "building {what} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_library_is_compiled_and_its_source_removed() {
        let folder = tempfile::tempdir().unwrap();
        let library = folder.path().join("answer.so");
        let source = "#[unsafe(no_mangle)] pub extern \"C\" fn answer() -> u32 { 42 }";
        compile(source, &library, &["opt-level=1"], "the answer").unwrap();
        assert!(library.is_file());
        assert!(!folder.path().join("answer.rs").exists());
    }

    #[test]
    fn a_failure_says_which_library_and_what_rustc_said() {
        let folder = tempfile::tempdir().unwrap();
        let library = folder.path().join("broken.so");
        let error = compile("fn (", &library, &[], "the broken library").unwrap_err();
        let error = format!("{error:#}");
        assert!(
            error.starts_with("building the broken library failed:"),
            "{error}"
        );
        assert!(error.contains("error"), "{error}");
    }
}
