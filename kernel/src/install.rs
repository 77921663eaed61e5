//! `cellar-kernel install` / `uninstall`: the kernelspec, and the runtime built ahead of time.
//!
//! Installing writes `kernels/cellar/kernel.json` ("Rust (cellar)") with its logos into the
//! chosen Jupyter data folder, then builds the seed: an evcxr build folder in which `cellar` and
//! its dependencies are already compiled as shared libraries. Each kernel starts from a copy of
//! it, so the first cell does not wait for the runtime to compile.

use crate::engine::workspace::{self, Workspace};
use anyhow::{Context, Result};
use jupyter_protocol::JupyterKernelspec;
use std::collections::HashMap;
use std::path::PathBuf;

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
    let dir = kernels_dir(&args.location)?.join(KERNEL_NAME);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let spec = kernelspec()?;
    std::fs::write(
        dir.join("kernel.json"),
        serde_json::to_string_pretty(&spec)?,
    )?;
    for (name, bytes) in [
        ("logo-32x32.png", LOGO_32),
        ("logo-64x64.png", LOGO_64),
        ("logo-svg.svg", LOGO_SVG),
    ] {
        std::fs::write(dir.join(name), bytes)?;
    }
    println!(
        "Installed the kernelspec `{KERNEL_NAME}` (Rust (cellar)) in {}",
        dir.display()
    );
    if !args.no_build {
        build_seed()?;
    }
    Ok(())
}

pub fn uninstall(location: &Location) -> Result<()> {
    let dir = kernels_dir(location)?.join(KERNEL_NAME);
    if dir.is_dir() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        println!(
            "Removed the kernelspec `{KERNEL_NAME}` from {}",
            dir.display()
        );
    } else {
        println!("No kernelspec `{KERNEL_NAME}` in {}", dir.display());
    }
    Ok(())
}

fn kernelspec() -> Result<JupyterKernelspec> {
    let exe = std::env::current_exe().context("locating cellar-kernel")?;
    // The kernel finds the seed and the runtime crate where this install put them.
    let env = HashMap::from([
        (
            workspace::SEED_DIR_ENV.to_string(),
            workspace::seed_dir().to_string_lossy().into_owned(),
        ),
        (
            workspace::RUNTIME_DIR_ENV.to_string(),
            workspace::runtime_dir().to_string_lossy().into_owned(),
        ),
    ]);
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
        env: Some(env),
    })
}

fn kernels_dir(location: &Location) -> Result<PathBuf> {
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

/// Compiles `cellar` (and `serde`) as evcxr will link them, in the seed folder.
fn build_seed() -> Result<()> {
    let seed = Workspace::seed()?;
    seed.export_env();
    println!(
        "Building the cellar runtime for cells in {} (once)…",
        seed.dir.display()
    );
    let (mut context, outputs) =
        evcxr::CommandContext::new().map_err(|e| anyhow::anyhow!("starting evcxr: {e}"))?;
    for stream in [outputs.stdout, outputs.stderr] {
        std::thread::spawn(move || stream.iter().for_each(|line| eprintln!("{line}")));
    }
    context
        .execute(":load_config")
        .map_err(|e| anyhow::anyhow!("building the runtime: {e}"))?;
    context
        .execute("cellar::__private::release_all();")
        .map_err(|e| anyhow::anyhow!("checking the runtime: {e}"))?;
    println!("The runtime is built.");
    Ok(())
}
