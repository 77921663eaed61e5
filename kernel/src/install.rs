//! `cellar-kernel install` / `uninstall`: the kernelspec, the runtime and its seed.
//!
//! Installing writes `kernels/cellar/kernel.json` ("Rust (cellar)") with its logos into the
//! chosen Jupyter data folder, unpacks the runtime this binary carries (unless a checkout names
//! its own in `CELLAR_RUNTIME_DIR`), then builds the seed: an evcxr build folder in which
//! `cellar` and its dependencies are already compiled as shared libraries. Each kernel starts
//! from a copy of it, so the first cell does not wait for the runtime to compile. Runtime and
//! seed folders of other versions are removed: a newer kernel replaces them.

use crate::runtime_source::{self, RuntimePaths, RuntimeSource, Unpacking};
use anyhow::{Context, Result};
use jupyter_protocol::JupyterKernelspec;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const KERNEL_NAME: &str = "cellar";

const LOGO_32: &[u8] = include_bytes!("../assets/logo-32x32.png");
const LOGO_64: &[u8] = include_bytes!("../assets/logo-64x64.png");
const LOGO_SVG: &[u8] = include_bytes!("../assets/logo-svg.svg");

/// Where the kernelspec goes (like `jupyter kernelspec install`).
#[derive(clap::Args, Debug)]
#[group(multiple = false)]
pub struct Location {
    /// The user's Jupyter data folder (the default).
    #[arg(long)]
    user: bool,
    /// The active Python environment (`$VIRTUAL_ENV`, else python3's `sys.prefix`).
    #[arg(long)]
    sys_prefix: bool,
    /// `DIR/share/jupyter/kernels`.
    #[arg(long, value_name = "DIR")]
    prefix: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    #[command(flatten)]
    location: Location,
    /// Only write the kernelspec; the runtime is then built by the first cell.
    #[arg(long)]
    no_build: bool,
}

pub fn install(args: &InstallArgs) -> Result<()> {
    let runtime = RuntimePaths::resolve(Unpacking::IfMissing)?;
    let dir = kernels_dir(&args.location)?.join(KERNEL_NAME);
    write_kernelspec(&dir, &runtime)?;
    println!(
        "Installed the kernelspec `{KERNEL_NAME}` (Rust (cellar)) in {}",
        dir.display()
    );
    println!("Runtime: {}", runtime.describe());
    if runtime.source == RuntimeSource::Embedded {
        for stale in runtime_source::remove_stale(&runtime_source::data_dir()?)? {
            println!(
                "Removed the runtime folder of another version: {}",
                stale.display()
            );
        }
    }
    if !args.no_build {
        println!(
            "Building the runtime for cells in {} (once; a few minutes)…",
            runtime.seed.display()
        );
        let took = crate::seed::build(&runtime)?;
        println!(
            "Built the seed {} in {:.0} s",
            runtime.seed.display(),
            took.as_secs_f64()
        );
    }
    Ok(())
}

fn write_kernelspec(dir: &Path, runtime: &RuntimePaths) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the kernelspec folder {}", dir.display()))?;
    let spec = kernelspec(runtime)?;
    let file = dir.join("kernel.json");
    std::fs::write(&file, serde_json::to_string_pretty(&spec)?)
        .with_context(|| format!("writing {}", file.display()))?;
    for (name, bytes) in [
        ("logo-32x32.png", LOGO_32),
        ("logo-64x64.png", LOGO_64),
        ("logo-svg.svg", LOGO_SVG),
    ] {
        std::fs::write(dir.join(name), bytes)
            .with_context(|| format!("writing {}", dir.join(name).display()))?;
    }
    Ok(())
}

/// Removes the kernelspec, and the seed and unpacked runtime it used (never a checkout).
pub fn uninstall(location: &Location) -> Result<()> {
    let dir = kernels_dir(location)?.join(KERNEL_NAME);
    if !dir.is_dir() {
        println!("No kernelspec `{KERNEL_NAME}` in {}", dir.display());
        return Ok(());
    }
    let recorded = recorded_env(&dir.join("kernel.json"));
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    println!(
        "Removed the kernelspec `{KERNEL_NAME}` from {}",
        dir.display()
    );
    let mut folders = Vec::new();
    if let Some(seed) = recorded.get(runtime_source::SEED_DIR_ENV) {
        folders.push(PathBuf::from(seed));
    }
    if !recorded.contains_key(runtime_source::RUNTIME_DIR_ENV) {
        let data = runtime_source::data_dir()?;
        folders.extend(runtime_source::current_folders(&data));
        for stale in runtime_source::remove_stale(&data)? {
            println!("Removed {}", stale.display());
        }
    }
    for folder in folders {
        if folder.is_dir() {
            std::fs::remove_dir_all(&folder)
                .with_context(|| format!("removing {}", folder.display()))?;
            println!("Removed {}", folder.display());
        }
    }
    Ok(())
}

/// The `env` a kernelspec records (empty when it can't be read).
pub fn recorded_env(kernel_json: &Path) -> HashMap<String, String> {
    std::fs::read_to_string(kernel_json)
        .ok()
        .and_then(|text| serde_json::from_str::<JupyterKernelspec>(&text).ok())
        .and_then(|spec| spec.env)
        .unwrap_or_default()
}

fn kernelspec(runtime: &RuntimePaths) -> Result<JupyterKernelspec> {
    let exe = std::env::current_exe().context("locating cellar-kernel")?;
    Ok(JupyterKernelspec {
        argv: vec![
            exe.to_string_lossy().into_owned(),
            "--connection-file".into(),
            "{connection_file}".into(),
        ],
        display_name: "Rust (cellar)".into(),
        language: "rust".into(),
        metadata: Some(HashMap::from([(
            "debugger".to_string(),
            serde_json::Value::Bool(false),
        )])),
        interrupt_mode: Some("message".into()),
        // Jupyter wants a table here, even an empty one (not null).
        env: Some(kernel_env(runtime)),
    })
}

/// What the kernel must be told: a checkout's runtime and a seed folder someone named. The
/// embedded runtime needs nothing: the kernel finds it (and its seed) by its own version.
fn kernel_env(runtime: &RuntimePaths) -> HashMap<String, String> {
    let mut env = HashMap::new();
    if let RuntimeSource::Checkout(dir) = &runtime.source {
        env.insert(
            runtime_source::RUNTIME_DIR_ENV.to_string(),
            dir.to_string_lossy().into_owned(),
        );
    }
    if runtime.seed_named || matches!(runtime.source, RuntimeSource::Checkout(_)) {
        env.insert(
            runtime_source::SEED_DIR_ENV.to_string(),
            runtime.seed.to_string_lossy().into_owned(),
        );
    }
    env
}

pub fn kernels_dir(location: &Location) -> Result<PathBuf> {
    let data = if let Some(prefix) = &location.prefix {
        prefix.join("share").join("jupyter")
    } else if location.sys_prefix {
        python_prefix()?.join("share").join("jupyter")
    } else {
        jupyter_zmq_client::dirs::user_data_dir()?
    };
    Ok(data.join("kernels"))
}

fn python_prefix() -> Result<PathBuf> {
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        return Ok(PathBuf::from(venv));
    }
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.prefix)"])
        .output()
        .context("--sys-prefix asks python3 for sys.prefix")?;
    Ok(PathBuf::from(String::from_utf8(out.stdout)?.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(source: RuntimeSource, seed_named: bool) -> RuntimePaths {
        RuntimePaths {
            cellar: "/data/cellar/runtime-x/cellar".into(),
            seed: "/data/cellar/seed-x".into(),
            source,
            seed_named,
        }
    }

    #[test]
    fn the_embedded_runtime_records_nothing() {
        assert!(kernel_env(&paths(RuntimeSource::Embedded, false)).is_empty());
        let named = kernel_env(&paths(RuntimeSource::Embedded, true));
        assert_eq!(named[runtime_source::SEED_DIR_ENV], "/data/cellar/seed-x");
        assert!(!named.contains_key(runtime_source::RUNTIME_DIR_ENV));
    }

    #[test]
    fn a_checkout_records_its_runtime_and_its_seed() {
        let env = kernel_env(&paths(
            RuntimeSource::Checkout("/src/clone/runtime".into()),
            false,
        ));
        assert_eq!(env[runtime_source::RUNTIME_DIR_ENV], "/src/clone/runtime");
        assert_eq!(env[runtime_source::SEED_DIR_ENV], "/data/cellar/seed-x");
    }

    #[test]
    fn a_written_kernelspec_reads_back_with_its_env() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = paths(RuntimeSource::Checkout("/src/clone/runtime".into()), false);
        write_kernelspec(dir.path(), &runtime).unwrap();
        let env = recorded_env(&dir.path().join("kernel.json"));
        assert_eq!(env[runtime_source::RUNTIME_DIR_ENV], "/src/clone/runtime");
        assert!(dir.path().join("logo-64x64.png").is_file());
        assert!(recorded_env(&dir.path().join("missing.json")).is_empty());
    }
}
