//! The wire convention between `cellar` (in the cell process) and the kernel.
//!
//! evcxr collects its own display blocks until a cell ends, so rich output that must appear
//! mid-cell travels another way: one line on stdout, [`OUTPUT_MARKER`] followed by a single-line
//! JSON object `{"msg_type": …, "content": {…}}`, where `msg_type` is `display_data`,
//! `update_display_data` or `clear_output` and `content` is the Jupyter message content. The
//! kernel's stdout pump turns each such line into that IOPub message as it arrives.
//!
//! The kernel tells the runtime which client session runs the current cell by writing its id to
//! the file named by [`SESSION_FILE_ENV`] before each cell.
//!
//! The kernel gives its cell process a store folder ([`STORE_DIR_ENV`]) where `cache_data`
//! entries are copied so they outlive the process. Copies are written in the background; while
//! some are queued the file `<store>/`[`PENDING_DIR`]`/<pid>` exists, and the kernel waits for
//! it to go before it answers the cell.

use serde_json::{json, Value};
use std::io::Write;

/// Starts a stdout line that carries a Jupyter message instead of text.
pub const OUTPUT_MARKER: &str = "CELLAR_OUTPUT ";

/// Environment variable naming the file that holds the current cell's client session id.
pub const SESSION_FILE_ENV: &str = "CELLAR_SESSION_FILE";

/// Environment variable naming the kernel's store folder for its cell process.
pub const STORE_DIR_ENV: &str = "CELLAR_STORE_DIR";

/// The folder, inside the store, of the markers of queued disk writes (one file per process).
pub const PENDING_DIR: &str = "pending";

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
