//! The stdin channel: a running cell asks the client for a line of input.

use crate::engine::InputReader;
use crate::sockets::{Incoming, Replies};
use crate::wire::Request;
use serde_json::json;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::Mutex;

/// The reader the engine calls (on its own thread) when a cell reads stdin.
///
/// It sends `input_request` to the client that ran the cell (the stdin ROUTER knows it by the
/// same identity as the shell request) and waits for its `input_reply`. Clients that do not
/// allow stdin (`allow_stdin: false`, e.g. nbconvert) get an empty line and a note on stderr.
pub fn reader(
    (replies, incoming): (Replies, UnboundedReceiver<Incoming>),
    runtime: tokio::runtime::Handle,
) -> InputReader {
    let incoming = Arc::new(Mutex::new(incoming));
    Arc::new(move |request: &Request, prompt: &str, password: bool| {
        if !request.bool_field("allow_stdin", false) {
            eprintln!("cellar: a cell asked for input, but this client does not allow stdin");
            return String::new();
        }
        let ask = request.reply(
            "input_request",
            json!({ "prompt": prompt, "password": password }),
        );
        let (replies, incoming) = (replies.clone(), incoming.clone());
        runtime.block_on(async move {
            replies.send(ask).await;
            let mut incoming = incoming.lock().await;
            while let Some(message) = incoming.recv().await {
                if let Incoming::Request(reply) = message {
                    if reply.msg_type() == "input_reply" {
                        return reply.str_field("value").to_string();
                    }
                }
            }
            String::new()
        })
    })
}
