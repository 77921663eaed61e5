//! The conventions between `cellar` (in the cell process) and the kernel.
//!
//! **Control channel.** The kernel asks the runtime for its own work (the `:cellar` report,
//! clearing, releasing a client session's entries or everything, waiting for entry writes) on
//! a Unix socket whose path is [`CONTROL_SOCKET_ENV`]. The runtime serves it on a thread of the
//! cell process from the first cached call on; before that it has nothing to report, release or
//! wait for, and the kernel finds nobody listening. One request per connection: the kernel
//! writes a [`ControlRequest`] as one line of JSON, the runtime answers with one line, a
//! [`ControlReply`], when the work is done. Nothing is compiled for these.
//!
//! **Outputs mid-cell.** evcxr collects its own display blocks until a cell ends, so rich output that must appear
//! mid-cell travels another way: one line on stdout, [`OUTPUT_MARKER`] followed by a single-line
//! JSON object `{"msg_type": …, "content": {…}}`, where `msg_type` is `display_data`,
//! `update_display_data` or `clear_output` and `content` is the Jupyter message content. The
//! kernel's stdout pump turns each such line into that IOPub message as it arrives.
//!
//! The kernel tells the runtime which client session runs the current cell by writing its id to
//! the file named by [`SESSION_FILE_ENV`] before each cell.
//!
//! The kernel gives its cell process a store folder ([`STORE_DIR_ENV`]) where `cache_data`
//! entries are copied so they outlive the process. Copies are written in the background; the
//! kernel asks for [`ControlRequest::WaitForWrites`] before it answers a cell.
//!
//! **Remote tier.** With `CELLAR_CACHE_URL` set, the kernel holds the connection to the object
//! storage and serves the runtime's storage requests on a second socket, [`REMOTE_SOCKET_ENV`]
//! (the one request that goes from the cell process to the kernel: a cached call that misses
//! locally must ask mid-cell). One request per connection: a [`RemoteRequest`] as one line of
//! JSON, followed for `put` by exactly `len` bytes of the entry; the kernel answers with one
//! [`RemoteReply`] line, followed for `found` by `len` bytes. The kernel bounds every request
//! in time, so a slow or unreachable remote is a `failed` reply, never a hang.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::io::Write;

/// Starts a stdout line that carries a Jupyter message instead of text.
pub const OUTPUT_MARKER: &str = "CELLAR_OUTPUT ";

/// Environment variable naming the file that holds the current cell's client session id.
pub const SESSION_FILE_ENV: &str = "CELLAR_SESSION_FILE";

/// Environment variable naming the kernel's store folder for its cell process.
pub const STORE_DIR_ENV: &str = "CELLAR_STORE_DIR";

/// Environment variable naming the control socket the runtime serves in the cell process.
pub const CONTROL_SOCKET_ENV: &str = "CELLAR_CONTROL_SOCKET";

/// The remote tier's URL (`s3://BUCKET/PREFIX`), read by the kernel; the runtime names it in
/// messages.
pub const CACHE_URL_ENV: &str = "CELLAR_CACHE_URL";

/// Environment variable naming the socket the kernel serves remote-tier requests on (set only
/// when the remote tier is configured).
pub const REMOTE_SOCKET_ENV: &str = "CELLAR_REMOTE_SOCKET";

/// What the kernel asks of the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum ControlRequest {
    /// Every cache's stats, as a Jupyter mime bundle.
    Report,
    /// Empties every cache and removes its entries from this machine (`:cellar clear`), or
    /// also what the remote tier holds of this notebook's functions (`:cellar clear remote`).
    ClearEverything { reach: Reach },
    /// A client session went away: its session-scoped entries are released.
    ReleaseSession { session: String },
    /// Kernel shutdown: every entry is released (`on_release` runs); files stay.
    ReleaseAll,
    /// Answers once every entry write queued so far is on disk.
    WaitForWrites,
}

impl ControlRequest {
    /// A short name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            ControlRequest::Report => "report",
            ControlRequest::ClearEverything { .. } => "clear",
            ControlRequest::ReleaseSession { .. } => "release-session",
            ControlRequest::ReleaseAll => "release-all",
            ControlRequest::WaitForWrites => "wait-for-writes",
        }
    }
}

/// How far a deletion of stored entries reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// This machine's tiers: eviction, expiry, `cache_data::clear()`, `:cellar clear`. Other
    /// machines may still use what the remote tier holds.
    ThisMachine,
    /// The remote tier too: `f::clear`, `f::clear_all`, `:cellar clear remote`.
    EveryTier,
}

/// The runtime's answer, sent when the work is done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum ControlReply {
    Report {
        bundle: serde_json::Map<String, Value>,
    },
    /// Done; `count` entries or caches were affected, where the request counts any.
    Done { count: usize },
}

/// What the runtime asks of the kernel's remote tier. Names are entry names such as
/// `load-0123456789abcdef/<blake3>.entry`, the same in every tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum RemoteRequest {
    Get {
        name: String,
    },
    /// `len` bytes follow the line.
    Put {
        name: String,
        len: u64,
    },
    Delete {
        names: Vec<String>,
    },
    /// Every entry under these function folders.
    DeleteFolders {
        folders: Vec<String>,
    },
}

/// The kernel's answer to a [`RemoteRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum RemoteReply {
    /// `len` bytes follow the line.
    Found {
        len: u64,
    },
    Missing,
    Done,
    /// What went wrong, in words for the notebook ("cannot reach …: connection refused").
    Failed {
        why: String,
    },
}

/// The message types the marker line may carry.
pub const MESSAGE_TYPES: [&str; 3] = ["display_data", "update_display_data", "clear_output"];

/// The line for one message, without its newline.
pub fn encode(msg_type: &str, content: &Value) -> String {
    let message = json!({ "msg_type": msg_type, "content": content });
    // serde_json escapes newlines inside strings: the line stays one line.
    format!("{OUTPUT_MARKER}{message}")
}

/// Writes one message line to stdout at once (stdout locked, written, flushed), so it reaches
/// the kernel while the cell is still running.
pub(crate) fn send(msg_type: &str, content: &Value) {
    let mut line = encode(msg_type, content);
    line.push('\n');
    let mut out = std::io::stdout().lock();
    // A closed stdout is not the cell's problem: the message is lost like any print would be.
    let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
}
