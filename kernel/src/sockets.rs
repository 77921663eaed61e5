//! The five Jupyter channels: bind them and run one task per socket.
//!
//! Each socket has exactly one owner task, so nothing else ever blocks on it:
//! - heartbeat echoes every ping;
//! - IOPub is an XPUB socket whose task `select!`s between outgoing messages and subscriptions,
//!   greeting every subscriber with `iopub_welcome` (an XPUB only records a subscription while
//!   someone polls its `recv()`, so late subscribers would otherwise lose messages);
//! - shell, control and stdin are ROUTER sockets split in two: a reader task checks and parses
//!   every message (and, for shell, forwards the socket's disconnect events, which only
//!   arrive while `recv()` is polled) and a cloneable send half answers.
//!
//! Bad frames and bad signatures are logged and dropped here; they never reach a handler.

use crate::wire::{self, Request};
use futures::StreamExt;
use jupyter_protocol::{ConnectionInfo, JupyterMessage};
use jupyter_zmq_client::{
    create_kernel_control_connection, create_kernel_heartbeat_connection,
    create_kernel_iopub_xpub_connection, create_kernel_shell_connection,
    create_kernel_stdin_connection, KernelIoPubXPubConnection, RouterRecvConnection,
    RouterSendConnection, SubscriptionEvent,
};
use serde_json::json;
use tokio::sync::mpsc;
use zeromq::{Socket, SocketEvent, SocketRecv, SocketSend};

/// What a ROUTER reader task hands to its handler.
#[derive(Debug)]
pub enum Incoming {
    Request(Request),
    /// A peer's connection went away (its ZeroMQ routing identity).
    PeerDisconnected(Vec<u8>),
}

/// Sends messages out on IOPub. Cloneable; every clone feeds the one IOPub task.
#[derive(Clone)]
pub struct Iopub(mpsc::UnboundedSender<JupyterMessage>);

impl Iopub {
    pub fn send(&self, message: JupyterMessage) {
        // The task only stops at shutdown; a message sent after that has nowhere to go.
        let _ = self.0.send(message);
    }
}

/// Answers on one ROUTER channel. Cloneable.
#[derive(Clone)]
pub struct Replies {
    connection: std::sync::Arc<tokio::sync::Mutex<RouterSendConnection>>,
}

impl Replies {
    /// Sends a reply. A peer that went away is not an error worth more than a log line: a ROUTER
    /// refuses to send to a departed peer, and that must never end a handler loop.
    pub async fn send(&self, message: JupyterMessage) {
        let msg_type = message.header.msg_type.clone();
        if let Err(error) = self.connection.lock().await.send(message).await {
            eprintln!("cellar: could not send {msg_type}: {error}");
        }
    }
}

/// The bound channels, ready to be served.
pub struct Channels {
    pub iopub: Iopub,
    pub shell: (Replies, mpsc::UnboundedReceiver<Incoming>),
    pub control: (Replies, mpsc::UnboundedReceiver<Incoming>),
    pub stdin: (Replies, mpsc::UnboundedReceiver<Incoming>),
}

/// Binds all five sockets of a connection file and starts their tasks.
pub async fn bind(info: &ConnectionInfo, kernel_session: &str) -> anyhow::Result<Channels> {
    if !info.key.is_empty() && info.signature_scheme != "hmac-sha256" {
        anyhow::bail!(
            "unsupported signature_scheme `{}`: cellar signs with hmac-sha256",
            info.signature_scheme
        );
    }
    let heartbeat = create_kernel_heartbeat_connection(info).await?;
    tokio::spawn(echo_heartbeats(heartbeat.socket));

    let iopub = create_kernel_iopub_xpub_connection(info, kernel_session).await?;
    let (iopub_tx, iopub_rx) = mpsc::unbounded_channel();
    tokio::spawn(publish(iopub, iopub_rx));

    let mut shell = create_kernel_shell_connection(info, kernel_session).await?;
    let shell_events = shell.socket.monitor();
    let control = create_kernel_control_connection(info, kernel_session).await?;
    let stdin = create_kernel_stdin_connection(info, kernel_session).await?;

    Ok(Channels {
        iopub: Iopub(iopub_tx),
        shell: serve_router("shell", shell.split(), Some(shell_events)),
        control: serve_router("control", control.split(), None),
        stdin: serve_router("stdin", stdin.split(), None),
    })
}

fn serve_router(
    channel: &'static str,
    (send, recv): (RouterSendConnection, RouterRecvConnection),
    events: Option<futures::channel::mpsc::Receiver<SocketEvent>>,
) -> (Replies, mpsc::UnboundedReceiver<Incoming>) {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(read_router(channel, recv, events, tx));
    let replies = Replies {
        connection: std::sync::Arc::new(tokio::sync::Mutex::new(send)),
    };
    (replies, rx)
}

async fn read_router(
    channel: &'static str,
    mut connection: RouterRecvConnection,
    mut events: Option<futures::channel::mpsc::Receiver<SocketEvent>>,
    tx: mpsc::UnboundedSender<Incoming>,
) {
    loop {
        let incoming = tokio::select! {
            frames = connection.socket.recv() => match frames {
                Ok(frames) => match Request::parse(frames, &connection.mac) {
                    Ok(request) => Incoming::Request(request),
                    Err(error) => {
                        eprintln!("cellar: dropped a message on {channel}: {error}");
                        continue;
                    }
                },
                Err(zeromq::ZmqError::NoMessage) => return,
                Err(error) => {
                    eprintln!("cellar: receive error on {channel}: {error}");
                    continue;
                }
            },
            Some(event) = next_event(&mut events) => match event {
                SocketEvent::Disconnected(peer) => Incoming::PeerDisconnected(peer.as_ref().to_vec()),
                _ => continue,
            },
        };
        if tx.send(incoming).is_err() {
            return;
        }
    }
}

async fn next_event(
    events: &mut Option<futures::channel::mpsc::Receiver<SocketEvent>>,
) -> Option<SocketEvent> {
    match events {
        Some(receiver) => receiver.next().await,
        None => std::future::pending().await,
    }
}

async fn publish(
    mut iopub: KernelIoPubXPubConnection,
    mut outgoing: mpsc::UnboundedReceiver<JupyterMessage>,
) {
    loop {
        tokio::select! {
            message = outgoing.recv() => match message {
                Some(message) => {
                    if let Err(error) = iopub.send(message).await {
                        eprintln!("cellar: could not publish on iopub: {error}");
                    }
                }
                None => return,
            },
            subscription = iopub.recv_subscription() => match subscription {
                Ok(SubscriptionEvent::Subscribe(topic)) => {
                    let welcome = wire::message("iopub_welcome", json!({ "subscription": topic }), None);
                    if let Err(error) = iopub.send(welcome).await {
                        eprintln!("cellar: could not send iopub_welcome: {error}");
                    }
                }
                Ok(SubscriptionEvent::Unsubscribe(_)) => {}
                Err(error) => eprintln!("cellar: iopub subscription error: {error}"),
            },
        }
    }
}

async fn echo_heartbeats(mut socket: zeromq::RepSocket) {
    while let Ok(ping) = socket.recv().await {
        if socket.send(ping).await.is_err() {
            return;
        }
    }
}
