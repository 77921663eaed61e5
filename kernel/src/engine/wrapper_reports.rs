//! The rustc wrapper's one channel to the kernel: JSON datagrams on a Unix socket.
//!
//! cargo runs the kernel binary as the rustc wrapper for every crate of a build (see
//! `rustc_wrapper`). The wrapper sends what the kernel shows or measures as one
//! [`WrapperReport`] per datagram to the socket named by [`SOCKET_ENV`], which the kernel
//! binds in its workspace for the life of the engine. Sending is best effort: a build never
//! waits for the kernel, nor fails without it.

use super::build_timing::CellBuild;
use serde::{Deserialize, Serialize};
use std::os::unix::net::UnixDatagram;
use std::path::Path;

/// Names the socket the kernel listens on.
pub const SOCKET_ENV: &str = "CELLAR_WRAPPER_REPORTS_SOCKET";

/// What the wrapper tells the kernel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WrapperReport {
    /// A dependency starts compiling (shown under the running cell, see `build_progress`).
    Compiling { crate_name: String },
    /// The cell crate was built (see `build_timing`).
    CellBuilt(CellBuild),
}

/// Sends `report` from the wrapper, if the kernel named a socket.
pub fn send(report: &WrapperReport) {
    if let Some(socket) = std::env::var_os(SOCKET_ENV) {
        send_to(Path::new(&socket), report);
    }
}

fn send_to(socket: &Path, report: &WrapperReport) {
    if let (Ok(datagram), Ok(bytes)) = (UnixDatagram::unbound(), serde_json::to_vec(report)) {
        let _ = datagram.send_to(&bytes, socket);
    }
}

/// Binds `socket` and hands each report to `on_report`, on a thread of its own.
pub fn listen(
    socket: &Path,
    mut on_report: impl FnMut(WrapperReport) + Send + 'static,
) -> std::io::Result<()> {
    let _ = std::fs::remove_file(socket);
    let listener = UnixDatagram::bind(socket)?;
    std::thread::Builder::new()
        .name("cellar-wrapper-reports".into())
        .spawn(move || {
            let mut buffer = [0u8; 1024];
            while let Ok(length) = listener.recv(&mut buffer) {
                match serde_json::from_slice(&buffer[..length]) {
                    Ok(report) => on_report(report),
                    Err(error) => eprintln!(
                        "cellar: a report of the rustc wrapper could not be read: {error}"
                    ),
                }
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn reports_sent_reach_the_listener_in_order() {
        let folder = tempfile::tempdir().unwrap();
        let socket = folder.path().join("reports.sock");
        let (sender, received) = mpsc::channel();
        listen(&socket, move |report| sender.send(report).unwrap()).unwrap();
        let built = WrapperReport::CellBuilt(CellBuild {
            cargo_began: 1.0,
            rustc_began: 1.5,
            rustc_ended: 2.0,
        });
        let compiling = WrapperReport::Compiling {
            crate_name: "rand_core".into(),
        };
        send_to(&socket, &compiling);
        send_to(&socket, &built);
        let wait = Duration::from_secs(5);
        assert_eq!(
            received.recv_timeout(wait).unwrap(),
            WrapperReport::Compiling {
                crate_name: "rand_core".into()
            }
        );
        assert!(matches!(
            received.recv_timeout(wait).unwrap(),
            WrapperReport::CellBuilt(CellBuild { rustc_ended, .. }) if rustc_ended == 2.0
        ));
    }
}
