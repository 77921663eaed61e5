//! The kernel's end of the control channel to the runtime in the cell process.
//!
//! Kernel-internal work (`:cellar`, clearing, releasing a client session's entries, releasing
//! everything at shutdown, waiting for entry writes before a cell's reply) is a request on the
//! socket the runtime serves (the protocol is in `cellar::protocol`), not Rust compiled through
//! evcxr. The runtime serves once a cell has used a cache; before that there is nothing to
//! report, release or wait for, and a request finds nobody listening.

use cellar::protocol::{ControlReply, ControlRequest, CONTROL_SOCKET_ENV};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// How a request went.
#[derive(Debug)]
pub enum Answer {
    Replied(ControlReply),
    /// No runtime is serving: no cell of this cell process has used a cache yet.
    NotServing,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("the cell process did not answer the kernel's {0} request within {1:?}")]
    TimedOut(&'static str, Duration),
    #[error("the cell process's answer to the kernel's {0} request was cut off: {1}")]
    Broken(&'static str, std::io::Error),
    #[error("the cell process answered the kernel's {0} request with something unreadable: {1}")]
    Unreadable(&'static str, serde_json::Error),
}

/// The socket the kernel's cell process serves (set in the environment it inherits).
fn socket() -> Option<PathBuf> {
    std::env::var_os(CONTROL_SOCKET_ENV).map(PathBuf::from)
}

/// Sends `request` and waits up to `wait` for the reply (`None`: as long as it takes; the
/// reply then ends when the cell process does).
pub fn ask(request: &ControlRequest, wait: Option<Duration>) -> Result<Answer, ControlError> {
    let name = request.name();
    let Some(path) = socket() else {
        return Ok(Answer::NotServing);
    };
    let mut stream = match UnixStream::connect(&path) {
        Ok(stream) => stream,
        // No socket yet, or one left by a cell process that died: nobody to ask.
        Err(_) => return Ok(Answer::NotServing),
    };
    let broken = |error| ControlError::Broken(name, error);
    stream.set_read_timeout(wait).map_err(broken)?;
    let mut line = serde_json::to_string(request).expect("a request serializes");
    line.push('\n');
    stream.write_all(line.as_bytes()).map_err(broken)?;
    let mut reply = String::new();
    match BufReader::new(stream).read_line(&mut reply) {
        Ok(0) => Err(broken(std::io::ErrorKind::UnexpectedEof.into())),
        Ok(_) => serde_json::from_str(&reply)
            .map(Answer::Replied)
            .map_err(|error| ControlError::Unreadable(name, error)),
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Err(ControlError::TimedOut(name, wait.unwrap_or_default()))
        }
        Err(error) => Err(broken(error)),
    }
}
