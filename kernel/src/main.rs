//! `cellar-kernel`: a Jupyter kernel for Rust with cell caching.
//!
//! Data flows one way: [`sockets`] (ZeroMQ channels) → [`wire`] (signed messages) →
//! [`handlers`] (what each request means) → [`engine`] (evcxr runs the cell) → outputs back out
//! on IOPub. [`install`] writes the kernelspec and builds the runtime once ([`seed`]), ahead of
//! the first cell, from the runtime crates the binary carries ([`runtime_source`]); [`doctor`]
//! says what is missing; [`history`] keeps what the user ran; [`sessions`] knows which client
//! runs each cell; [`remote_tier`] shares `persist = "disk"` entries through object storage.

mod doctor;
mod engine;
mod handlers;
mod history;
mod install;
mod remote_tier;
mod runtime_source;
mod seed;
mod sessions;
mod sockets;
mod toolchain;
mod wire;

/// The manifest rewriting `build.rs` does, under test.
#[cfg(test)]
#[path = "../embed/manifest.rs"]
mod embedded_manifest;
#[path = "../embed/runtime_crates.rs"]
mod runtime_crates;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cellar-kernel",
    version,
    about = "A Jupyter kernel for Rust with cell caching"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    /// The connection file Jupyter wrote for this kernel (runs the kernel).
    #[arg(long, value_name = "FILE")]
    connection_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Install the `cellar` kernelspec ("Rust (cellar)") and build the runtime cells link.
    Install(install::InstallArgs),
    /// Remove the `cellar` kernelspec, and the runtime and seed it used.
    Uninstall(install::Location),
    /// Check what a kernel needs (rustc, libstd, the kernelspec, the runtime, its seed).
    Doctor,
}

/// rust-analyzer, which evcxr runs on every cell, allocates heavily: in a profile of the engine
/// thread glibc's malloc and free took about a sixth of its time, mimalloc's a twentieth.
/// evcxr_jupyter uses mimalloc too. Built without its transparent huge pages (`no_thp`): the
/// kernel first faults in the memory rust-analyzer parses the standard library into, and zeroing
/// whole 2 MiB pages of it took about a fifth of the engine thread's start; evcxr's start took
/// 2.50 s against 2.77 s (medians of 8 kernels each, alternating). Only this process's own
/// allocations change: cargo and rustc are as before, and so are the cells' (a cell library
/// allocates through its own allocator, the system's, in the cell process).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The process that runs cells, and evcxr's rustc wrapper, are this binary started again.
    engine::rustc_wrapper::hand_over();
    let cli = Cli::parse();
    let result = match (cli.command, cli.connection_file) {
        (Some(Command::Install(args)), _) => install::install(&args),
        (Some(Command::Uninstall(location)), _) => install::uninstall(&location),
        (Some(Command::Doctor), _) => match doctor::doctor() {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(error) => Err(error),
        },
        (None, Some(file)) => run(&file),
        (None, None) => Err(anyhow::anyhow!(
            "nothing to do: Jupyter starts the kernel with --connection-file FILE; to set it up, run `cellar-kernel install`"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cellar-kernel: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(connection_file: &std::path::Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(connection_file)
        .with_context(|| format!("reading the connection file {}", connection_file.display()))?;
    let info: jupyter_protocol::ConnectionInfo =
        serde_json::from_str(&text).context("parsing the connection file")?;
    let runtime = runtime_source::RuntimePaths::resolve(runtime_source::Unpacking::IfMissing)?;
    let workspace = engine::workspace::Workspace::for_kernel(&runtime)?;
    workspace.export_env();
    let remote = remote_tier::RemoteTier::from_env().map(std::sync::Arc::new);
    if remote.is_some() {
        // Before any thread starts: the cell process inherits it and asks the kernel there.
        std::env::set_var(
            cellar::protocol::REMOTE_SOCKET_ENV,
            workspace.remote_socket(),
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        if let Some(tier) = &remote {
            let socket = workspace.remote_socket();
            if let Err(error) = remote_tier::serve::serve(tier.clone(), &socket) {
                eprintln!(
                    "cellar: cannot serve the remote tier on {}: {error}",
                    socket.display()
                );
            }
        }
        let channels = sockets::bind(&info, &uuid::Uuid::new_v4().to_string()).await?;
        handlers::serve(channels, workspace.engine_paths(), remote).await;
        // Give the shutdown reply a moment to leave before the sockets close.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        anyhow::Ok(())
    })?;
    drop(workspace);
    // Threads blocked on evcxr's channels would keep a normal return waiting.
    std::process::exit(0)
}
