//! The shell channel: execute, complete, inspect, is_complete, history, comm_info, kernel_info.

use super::{kernel_info, Kernel};
use crate::engine::{is_complete, Cell};
use crate::sockets::{Incoming, Replies};
use crate::wire::Request;
use jupyter_protocol::JupyterMessage;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedReceiver;

pub async fn serve(
    kernel: Arc<Kernel>,
    replies: Replies,
    mut incoming: UnboundedReceiver<Incoming>,
) {
    while let Some(message) = incoming.recv().await {
        match message {
            Incoming::Request(request) => {
                if let Some(peer) = request.identities.first() {
                    kernel
                        .sessions
                        .lock()
                        .unwrap()
                        .seen(peer, request.session());
                }
                if handle(&kernel, &replies, &request).await {
                    abort_queued(&kernel, &replies, &mut incoming).await;
                }
            }
            Incoming::PeerDisconnected(peer) => release_after_grace(&kernel, &peer),
        }
    }
}

/// A client connection went away: release its sessions unless they come back in time.
fn release_after_grace(kernel: &Arc<Kernel>, peer: &[u8]) {
    let leaving = kernel.sessions.lock().unwrap().disconnected(peer);
    for (session, ticket) in leaving {
        let kernel = kernel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(crate::sessions::grace()).await;
            if kernel
                .sessions
                .lock()
                .unwrap()
                .confirm_gone(&session, ticket)
            {
                kernel.engine.release_session(session);
            }
        });
    }
}

/// Handles one request; true when a cell failed and asked to stop the cells queued after it.
async fn handle(kernel: &Kernel, replies: &Replies, request: &Request) -> bool {
    kernel.status(request, "busy");
    let (reply, stop) = match request.msg_type() {
        "execute_request" => execute(kernel, request).await,
        other => (answer(kernel, request, other).await, false),
    };
    if let Some(reply) = reply {
        replies.send(reply).await;
    }
    kernel.status(request, "idle");
    stop
}

async fn answer(kernel: &Kernel, request: &Request, msg_type: &str) -> Option<JupyterMessage> {
    let content = match msg_type {
        "kernel_info_request" => kernel_info::content(),
        "complete_request" => {
            let code = request.str_field("code").to_string();
            let cursor = request
                .int_field("cursor_pos", code.chars().count() as i64)
                .max(0) as usize;
            kernel.engine.complete(code, cursor).await
        }
        "inspect_request" => {
            let code = request.str_field("code").to_string();
            let cursor = request
                .int_field("cursor_pos", code.chars().count() as i64)
                .max(0) as usize;
            kernel.engine.inspect(code, cursor).await
        }
        "is_complete_request" => {
            let verdict = is_complete::check(request.str_field("code"));
            match verdict {
                is_complete::Completeness::Incomplete { indent } => {
                    json!({ "status": "incomplete", "indent": indent })
                }
                other => json!({ "status": other.status() }),
            }
        }
        "history_request" => kernel.history.lock().unwrap().answer(&request.content),
        "comm_info_request" => json!({ "status": "ok", "comms": {} }),
        // No comm targets are registered: close what a frontend opens, as ipykernel does.
        "comm_open" => {
            let comm_id = request.content.get("comm_id").cloned().unwrap_or_default();
            kernel
                .iopub
                .send(request.broadcast("comm_close", json!({ "comm_id": comm_id, "data": {} })));
            return None;
        }
        "comm_msg" | "comm_close" => return None,
        _ => {
            eprintln!("cellar: no handler for `{msg_type}` on shell");
            return request.unknown_reply();
        }
    };
    Some(request.reply(&msg_type.replace("_request", "_reply"), content))
}

async fn execute(kernel: &Kernel, request: &Request) -> (Option<JupyterMessage>, bool) {
    let code = request.str_field("code").to_string();
    let silent = request.bool_field("silent", false);
    let store_history = request.bool_field("store_history", true) && !silent;
    let count = if store_history {
        kernel.execution_count.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        kernel.execution_count.load(Ordering::SeqCst)
    };
    if !silent {
        kernel.iopub.send(request.broadcast(
            "execute_input",
            json!({ "code": code, "execution_count": count }),
        ));
    }
    let outcome = kernel.engine.execute(cell(request, count, silent)).await;
    if store_history {
        kernel
            .history
            .lock()
            .unwrap()
            .record(count, &code, outcome.result_text.clone());
    }
    let (content, stop) = match &outcome.error {
        Some(error) => {
            kernel
                .iopub
                .send(request.broadcast("error", error.content()));
            let mut content = error.content();
            content["status"] = json!("error");
            content["execution_count"] = json!(count);
            (content, request.bool_field("stop_on_error", true))
        }
        None => {
            let mut content = json!({ "status": "ok", "execution_count": count, "payload": outcome.payload, "user_expressions": {} });
            if !outcome.phases.is_empty() {
                // Where the time went (compile, run): a cellar extension, for benchmarks.
                let phases: serde_json::Map<String, serde_json::Value> = outcome
                    .phases
                    .iter()
                    .map(|(name, secs)| (name.clone(), json!(secs)))
                    .collect();
                content["cellar_phases"] = phases.into();
            }
            (content, false)
        }
    };
    (Some(request.reply("execute_reply", content)), stop)
}

/// The typed cell of an `execute_request`: what the engine needs, with the protocol's defaults.
fn cell(request: &Request, execution_count: u32, silent: bool) -> Cell {
    let metadata = &request.metadata;
    Cell {
        code: request.str_field("code").to_string(),
        silent,
        execution_count,
        cell_id: metadata
            .get("cellId")
            .and_then(serde_json::Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_string),
        deleted_cells: metadata
            .get("deletedCells")
            .and_then(serde_json::Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(serde_json::Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        session: request.session().to_string(),
        parent: request.clone(),
    }
}

/// After a failed cell, the cells already queued behind it are aborted (as ipykernel does), so
/// "Run All" stops at the first error. Other requests in the queue are answered normally.
async fn abort_queued(
    kernel: &Kernel,
    replies: &Replies,
    incoming: &mut UnboundedReceiver<Incoming>,
) {
    while let Ok(message) = incoming.try_recv() {
        let Incoming::Request(request) = message else {
            continue;
        };
        if request.msg_type() == "execute_request" {
            kernel.status(&request, "busy");
            let count = kernel.execution_count.load(Ordering::SeqCst);
            replies
                .send(request.reply(
                    "execute_reply",
                    json!({ "status": "aborted", "execution_count": count }),
                ))
                .await;
            kernel.status(&request, "idle");
        } else {
            handle(kernel, replies, &request).await;
        }
    }
}
