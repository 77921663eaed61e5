//! The execution engine: evcxr on a thread of its own.
//!
//! evcxr's `CommandContext` compiles each cell into a library and runs it in a long-lived child
//! process. It is blocking and not shared, so one thread owns it and takes [`Job`]s from the
//! handlers in order; outputs flow from the child straight to IOPub through [`outputs`] while a
//! cell runs. Interrupts do not go through the queue: they kill the child (evcxr has no softer
//! way to stop running code), which evcxr notices and replaces with a fresh one.

mod analysis_view;
mod build_folders;
mod build_progress;
mod build_timing;
mod cell;
mod cell_crate_build;
pub mod cell_crate_flags;
mod cell_crate_linking;
pub mod checked_cells;
mod commands;
pub mod compiled_cells;
mod control;
pub mod diagnostics;
pub mod evcxr_start;
mod folder_copy;
pub mod is_complete;
mod kernel_folder;
mod leftover_folders;
mod lighter_crates;
mod notebook;
mod offline_first;
mod outputs;
mod panics;
mod runtime_loading;
pub mod runtime_stand_ins;
pub mod rustc_wrapper;
mod seed_libraries;
mod signatures_only;
mod std_source;
mod stderr_pipe;
mod unused_std_copies;
pub mod variable_store;
mod whole_file;
pub mod workspace;
mod wrapper_reports;

use crate::sockets::Iopub;
use crate::wire::Request;
use diagnostics::CellError;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// What the engine asks rust-analyzer to complete once it has been idle for a moment after a
/// cell: a method on a value. Answering it, rust-analyzer takes in the notebook's new code and
/// collects the trait impls and lang items of every crate the cells see, once for each crate.
/// A path (`std::`), asked for before, left that work to the next method completion or cell
/// that defines a variable: 0.7–0.8 s of it after a pause, 0.1–0.15 s now. A cell sent while
/// the warm-up runs waits for it, no longer than it waited for the path's (2.3–2.5 s after a
/// kernel's first cell here).
const IDLE_WARM_UP: &str = "1u8.";

/// Asks the client for a line of input (`input_request` on stdin) on behalf of a running cell.
pub type InputReader = Arc<dyn Fn(&Request, &str, bool) -> String + Send + Sync>;

/// The files and folders the engine works with, from the kernel's workspace.
pub struct EnginePaths {
    /// Where the client session of the running cell is written for the runtime.
    pub session_file: std::path::PathBuf,
    /// evcxr's build folder.
    pub build: std::path::PathBuf,
    /// Where the rustc wrapper reports to the kernel (`wrapper_reports`).
    pub wrapper_reports_socket: std::path::PathBuf,
    /// What the cell being built does, read by the rustc wrapper (`cell_crate_flags`).
    pub cell_work: std::path::PathBuf,
    /// How `evcxr.toml` has the cells depend on the runtime (`runtime_stand_ins`).
    pub runtime_dependencies: runtime_stand_ins::RuntimeDependencies,
    /// The evcxr commands that give the cells the whole runtime, for a notebook's own crates.
    pub whole_runtime: String,
}

/// A cell to run, as the shell handler parsed it from an `execute_request`.
pub struct Cell {
    pub code: String,
    pub silent: bool,
    pub execution_count: u32,
    /// JupyterLab's `metadata.cellId`: the items the cell defines belong to it.
    pub cell_id: Option<String>,
    /// JupyterLab's `metadata.deletedCells`: their items are removed.
    pub deleted_cells: Vec<String>,
    /// The client session (connection) that runs it: session-scoped entries belong to it.
    pub session: String,
    /// The request it answers. The engine reads nothing from it: outputs and input requests
    /// are addressed to it.
    pub parent: Request,
}

/// How a cell ended. Its outputs have already been sent on IOPub; its error has not.
#[derive(Debug, Default)]
pub struct CellOutcome {
    pub error: Option<CellError>,
    /// `execute_reply` payloads (the pager for `:doc`).
    pub payload: Vec<Value>,
    /// The `text/plain` of the result, for history with outputs.
    pub result_text: Option<String>,
    /// Seconds spent in each phase: evcxr's ("Execution"…), its compile phase split where the
    /// wrapper reported the build (`build_timing`), and storing cached entries.
    pub phases: Vec<(String, f64)>,
}

enum Job {
    /// Boxed: a cell is ten times the size of the other jobs, which the queue would all pay for.
    Execute(Box<Cell>, oneshot::Sender<CellOutcome>),
    Complete(String, usize, oneshot::Sender<Value>),
    Inspect(String, usize, oneshot::Sender<Value>),
    ReleaseSession(String),
    Shutdown(oneshot::Sender<()>),
}

/// The handle the message handlers use.
pub struct Engine {
    jobs: crossbeam_channel::Sender<Job>,
    child: Arc<Mutex<Option<Arc<Mutex<std::process::Child>>>>>,
    interrupted: Arc<AtomicBool>,
    running: Arc<AtomicBool>,
}

impl Engine {
    /// Starts the engine thread. evcxr starts (and compiles a first cell) there, so the kernel
    /// answers `kernel_info` at once while the engine warms up; jobs wait in the queue.
    pub fn start(
        iopub: Iopub,
        input: InputReader,
        paths: EnginePaths,
        remote: Option<Arc<crate::remote_tier::RemoteTier>>,
    ) -> Engine {
        let (jobs, queue) = crossbeam_channel::unbounded();
        let child = Arc::new(Mutex::new(None));
        let interrupted = Arc::new(AtomicBool::new(false));
        let running = Arc::new(AtomicBool::new(false));
        let state = cell::Shared {
            iopub,
            input,
            paths,
            remote,
            child: child.clone(),
            interrupted: interrupted.clone(),
            running: running.clone(),
        };
        std::thread::Builder::new()
            .name("cellar-engine".into())
            .spawn(move || run(state, queue))
            .expect("spawn the engine thread");
        Engine {
            jobs,
            child,
            interrupted,
            running,
        }
    }

    pub async fn execute(&self, cell: Cell) -> CellOutcome {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Execute(Box::new(cell), tx));
        rx.await.unwrap_or_else(|_| CellOutcome {
            error: Some(CellError::new("EngineStopped", "the Rust engine stopped")),
            ..CellOutcome::default()
        })
    }

    pub async fn complete(&self, code: String, cursor: usize) -> Value {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Complete(code, cursor, tx));
        rx.await.unwrap_or(Value::Null)
    }

    pub async fn inspect(&self, code: String, cursor: usize) -> Value {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Inspect(code, cursor, tx));
        rx.await.unwrap_or(Value::Null)
    }

    /// Releases the entries of a client session that went away (their `on_release` runs).
    pub fn release_session(&self, session: String) {
        self.send(Job::ReleaseSession(session));
    }

    /// Releases every cached entry (their `on_release` runs) and stops the engine.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Shutdown(tx));
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), rx).await;
    }

    /// Stops the running cell by killing the cell process; a fresh one replaces it.
    /// With no cell running there is nothing to stop, and the process is left alone.
    pub fn interrupt(&self) {
        let child = self.child.lock().unwrap().clone();
        if let (Some(child), true) = (child, self.running.load(Ordering::SeqCst)) {
            self.interrupted.store(true, Ordering::SeqCst);
            if let Err(error) = child.lock().unwrap().kill() {
                eprintln!("cellar: could not stop the cell process: {error}");
            }
        }
    }

    fn send(&self, job: Job) {
        // The engine thread lives as long as the process; a send can only fail during exit.
        let _ = self.jobs.send(job);
    }
}

fn run(shared: cell::Shared, queue: crossbeam_channel::Receiver<Job>) {
    let mut engine = match cell::Runner::start(shared) {
        Ok(engine) => Some(engine),
        Err(error) => {
            eprintln!("cellar: the Rust engine did not start: {error:#}");
            None
        }
    };
    let failed = |what: &str| {
        CellError::new(
            "EngineFailed",
            format!("the Rust engine did not start ({what}); see the kernel log"),
        )
    };
    let mut warmed_up = false;
    loop {
        let job = match queue.recv_timeout(std::time::Duration::from_millis(300)) {
            Ok(job) => job,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                // What the next completion or cell would wait for, done while the kernel is idle.
                if let (false, Some(runner)) = (warmed_up, engine.as_mut()) {
                    runner.complete(IDLE_WARM_UP, IDLE_WARM_UP.len());
                    warmed_up = true;
                }
                continue;
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
        };
        match (job, engine.as_mut()) {
            (Job::Execute(cell, reply), Some(runner)) => {
                let _ = reply.send(runner.execute(*cell));
                warmed_up = false;
            }
            (Job::Execute(_, reply), None) => {
                let _ = reply.send(CellOutcome {
                    error: Some(failed("evcxr")),
                    ..CellOutcome::default()
                });
            }
            (Job::Complete(code, cursor, reply), runner) => {
                let _ = reply.send(
                    runner
                        .map(|r| r.complete(&code, cursor))
                        .unwrap_or(Value::Null),
                );
            }
            (Job::Inspect(code, cursor, reply), runner) => {
                let _ = reply.send(
                    runner
                        .map(|r| r.inspect(&code, cursor))
                        .unwrap_or(Value::Null),
                );
            }
            (Job::ReleaseSession(session), runner) => {
                if let Some(runner) = runner {
                    runner.release_session(&session);
                }
            }
            (Job::Shutdown(reply), runner) => {
                if let Some(runner) = runner {
                    runner.release_all();
                }
                let _ = reply.send(());
                return;
            }
        }
    }
}
