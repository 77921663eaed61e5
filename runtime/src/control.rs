//! The runtime's end of the control channel (the protocol is in [`crate::protocol`]).
//!
//! In a kernel's cell process the first cached call starts a thread that serves the socket the
//! kernel named. Requests are answered one at a time, on that thread: a report, a clear, a
//! release runs there as it would in a cell, and waiting for writes blocks only this thread.

use crate::protocol::{ControlReply, ControlRequest, CONTROL_SOCKET_ENV};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::Once;

/// Starts serving the kernel's socket, once per process; nothing outside a kernel.
pub(crate) fn serve_in_background() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let Some(path) = std::env::var_os(CONTROL_SOCKET_ENV).map(PathBuf::from) else {
            return;
        };
        // A socket file left by a cell process that died is in the way.
        let _ = std::fs::remove_file(&path);
        let listener = match UnixListener::bind(&path) {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!(
                    "cellar: cannot serve the kernel's control socket {}: {error}; `:cellar` will \
                     not see this process's caches",
                    path.display()
                );
                return;
            }
        };
        let spawned = std::thread::Builder::new()
            .name("cellar-control".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    if let Err(error) = answer(stream) {
                        eprintln!("cellar: a control request from the kernel failed: {error}");
                    }
                }
            });
        if let Err(error) = spawned {
            eprintln!("cellar: cannot start the control thread: {error}");
        }
    });
}

fn answer(stream: UnixStream) -> std::io::Result<()> {
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line)?;
    let request: ControlRequest = serde_json::from_str(&line)
        .map_err(|error| std::io::Error::new(std::io::ErrorKind::InvalidData, error))?;
    let mut reply = serde_json::to_string(&handle(request)).expect("a reply serializes");
    reply.push('\n');
    (&stream).write_all(reply.as_bytes())
}

/// Does what the kernel asked.
pub(crate) fn handle(request: ControlRequest) -> ControlReply {
    use crate::__private as private;
    match request {
        ControlRequest::Report => ControlReply::Report {
            bundle: crate::report::bundle(""),
        },
        ControlRequest::ClearEverything { reach } => ControlReply::Done {
            count: private::clear_everything(reach),
        },
        ControlRequest::ReleaseSession { session } => ControlReply::Done {
            count: private::release_session(&session),
        },
        ControlRequest::ReleaseAll => ControlReply::Done {
            count: private::release_all(),
        },
        ControlRequest::WaitForWrites => {
            crate::store::storage::flush();
            ControlReply::Done { count: 0 }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_replies_are_one_line_of_json_each() {
        let request = ControlRequest::ReleaseSession {
            session: "abc".into(),
        };
        let line = serde_json::to_string(&request).unwrap();
        assert_eq!(line, r#"{"request":"release_session","session":"abc"}"#);
        assert_eq!(
            serde_json::from_str::<ControlRequest>(&line).unwrap(),
            request
        );
        let reply = serde_json::to_string(&handle(ControlRequest::WaitForWrites)).unwrap();
        assert_eq!(reply, r#"{"reply":"done","count":0}"#);
    }

    #[test]
    fn the_report_is_a_mime_bundle_with_text() {
        match handle(ControlRequest::Report) {
            ControlReply::Report { bundle } => assert!(bundle.contains_key("text/plain")),
            other => panic!("{other:?}"),
        }
    }
}
