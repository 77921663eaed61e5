//! The control channel: interrupt, shutdown and kernel_info, served even while a cell runs.

use super::{kernel_info, Kernel};
use crate::sockets::{Incoming, Replies};
use serde_json::json;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedReceiver;

/// Serves control requests; returns once a client asked the kernel to shut down.
pub async fn serve(
    kernel: Arc<Kernel>,
    replies: Replies,
    mut incoming: UnboundedReceiver<Incoming>,
) {
    while let Some(message) = incoming.recv().await {
        let Incoming::Request(request) = message else {
            continue;
        };
        kernel.status(&request, "busy");
        let reply = match request.msg_type() {
            "kernel_info_request" => {
                Some(request.reply("kernel_info_reply", kernel_info::content()))
            }
            "interrupt_request" => {
                kernel.engine.interrupt();
                Some(request.reply("interrupt_reply", json!({ "status": "ok" })))
            }
            "shutdown_request" => {
                let restart = request.bool_field("restart", false);
                // Release every cache first (their on_release hooks run), then answer and stop.
                kernel.engine.shutdown().await;
                replies
                    .send(request.reply(
                        "shutdown_reply",
                        json!({ "status": "ok", "restart": restart }),
                    ))
                    .await;
                kernel.status(&request, "idle");
                return;
            }
            other => {
                eprintln!("cellar: no handler for `{other}` on control");
                request.unknown_reply()
            }
        };
        if let Some(reply) = reply {
            replies.send(reply).await;
        }
        kernel.status(&request, "idle");
    }
}
