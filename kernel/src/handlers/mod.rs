//! Message handlers: what the kernel does with each request.
//!
//! Like ipykernel, shell and control are served separately: shell requests run one after the
//! other (a cell, then the completion asked while it ran), while control stays free to interrupt
//! or shut down a kernel that is busy. Every request is wrapped in IOPub `busy` … `idle` under
//! its own header, which is how clients know a request is done.

mod control;
mod kernel_info;
mod shell;
mod stdin;

use crate::engine::Engine;
use crate::history::History;
use crate::sessions::Sessions;
use crate::sockets::{Channels, Iopub};
use crate::wire::{self, Request};
use serde_json::json;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};

/// The state every handler shares.
pub struct Kernel {
    iopub: Iopub,
    engine: Engine,
    history: Mutex<History>,
    execution_count: AtomicU32,
    sessions: Mutex<Sessions>,
}

impl Kernel {
    fn status(&self, parent: &Request, state: &str) {
        self.iopub
            .send(parent.broadcast("status", json!({ "execution_state": state })));
    }
}

/// Serves the channels until a client asks the kernel to shut down.
pub async fn serve(
    channels: Channels,
    paths: crate::engine::EnginePaths,
    remote: Option<Arc<crate::remote_tier::RemoteTier>>,
) {
    let Channels {
        iopub,
        shell,
        control,
        stdin,
    } = channels;
    let input = stdin::reader(stdin, tokio::runtime::Handle::current());
    let kernel = Arc::new(Kernel {
        engine: Engine::start(iopub.clone(), input, paths, remote),
        iopub,
        history: Mutex::new(History::open_default()),
        execution_count: AtomicU32::new(0),
        sessions: Mutex::new(Sessions::default()),
    });
    kernel.iopub.send(wire::message(
        "status",
        json!({ "execution_state": "starting" }),
        None,
    ));
    tokio::spawn(shell::serve(kernel.clone(), shell.0, shell.1));
    tokio::spawn(interrupt_on_sigint(kernel.clone()));
    control::serve(kernel, control.0, control.1).await;
}

/// `interrupt_mode: "signal"` clients send SIGINT instead of `interrupt_request`: same effect.
async fn interrupt_on_sigint(kernel: Arc<Kernel>) {
    while tokio::signal::ctrl_c().await.is_ok() {
        kernel.engine.interrupt();
    }
}
