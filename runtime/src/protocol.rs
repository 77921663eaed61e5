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

/// What the kernel asks of the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum ControlRequest {
    /// Every cache's stats, as a Jupyter mime bundle.
    Report,
    /// Empties every cache and removes its files (`:cellar clear`).
    ClearEverything,
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
            ControlRequest::ClearEverything => "clear",
            ControlRequest::ReleaseSession { .. } => "release-session",
            ControlRequest::ReleaseAll => "release-all",
            ControlRequest::WaitForWrites => "wait-for-writes",
        }
    }
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
