//! The remote tier as the runtime sees it: S3-compatible object storage, shared by every kernel
//! that points at the same `CELLAR_CACHE_URL`, reached through the kernel.
//!
//! The kernel holds the connection (the `object_store` crate, on its async runtime) and bounds
//! every request in time; the cell process asks it on the socket named by
//! [`REMOTE_SOCKET_ENV`] (protocol in [`crate::protocol`]). So a cell links no HTTP client, and a
//! remote that hangs costs a cell the kernel's time limit, not the cell.

use super::{Storage, StorageError};
use crate::protocol::{RemoteReply, RemoteRequest, CACHE_URL_ENV, REMOTE_SOCKET_ENV};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

/// Longer than any limit the kernel sets on a request: only a kernel that stopped answering
/// meets it.
const SAFETY_LIMIT: Duration = Duration::from_secs(300);

/// The kernel's remote tier.
pub struct Remote {
    socket: PathBuf,
    url: String,
}

impl Remote {
    /// The remote tier, when the kernel serves one.
    pub fn from_env() -> Option<Remote> {
        let socket = std::env::var_os(REMOTE_SOCKET_ENV).filter(|path| !path.is_empty())?;
        Some(Remote {
            socket: socket.into(),
            url: std::env::var(CACHE_URL_ENV).unwrap_or_default(),
        })
    }

    fn ask(
        &self,
        request: &RemoteRequest,
        payload: &[u8],
    ) -> Result<(RemoteReply, Vec<u8>), StorageError> {
        let failed = |what: &str, error: std::io::Error| {
            StorageError::Remote(format!(
                "the kernel's remote-tier socket {}: {what}: {error}",
                self.socket.display()
            ))
        };
        let mut stream =
            UnixStream::connect(&self.socket).map_err(|error| failed("cannot connect", error))?;
        stream
            .set_read_timeout(Some(SAFETY_LIMIT))
            .map_err(|error| failed("cannot set a time limit", error))?;
        let mut line = serde_json::to_string(request).expect("a request serializes");
        line.push('\n');
        stream
            .write_all(line.as_bytes())
            .and_then(|()| stream.write_all(payload))
            .map_err(|error| failed("cannot send the request", error))?;
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .map_err(|error| failed("no answer", error))?;
        let reply: RemoteReply = serde_json::from_str(&line).map_err(|error| {
            StorageError::Remote(format!(
                "the kernel answered unreadably ({error}): {line:?}"
            ))
        })?;
        let mut bytes = Vec::new();
        if let RemoteReply::Found { len } = reply {
            bytes.reserve(len as usize);
            reader
                .take(len)
                .read_to_end(&mut bytes)
                .map_err(|error| failed("the entry was cut off", error))?;
            if bytes.len() as u64 != len {
                return Err(StorageError::Remote(format!(
                    "the kernel sent {} of the entry's {len} bytes",
                    bytes.len()
                )));
            }
        }
        Ok((reply, bytes))
    }

    fn done(&self, request: &RemoteRequest, payload: &[u8]) -> Result<(), StorageError> {
        match self.ask(request, payload)? {
            (RemoteReply::Done, _) => Ok(()),
            (RemoteReply::Failed { why }, _) => Err(StorageError::Remote(why)),
            (other, _) => Err(unexpected(&other)),
        }
    }
}

fn unexpected(reply: &RemoteReply) -> StorageError {
    StorageError::Remote(format!("the kernel answered {reply:?} out of turn"))
}

impl Storage for Remote {
    fn describe(&self) -> String {
        format!("the remote tier {}", self.url)
    }

    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let request = RemoteRequest::Get { name: name.into() };
        match self.ask(&request, &[])? {
            (RemoteReply::Found { .. }, bytes) => Ok(Some(bytes)),
            (RemoteReply::Missing, _) => Ok(None),
            (RemoteReply::Failed { why }, _) => Err(StorageError::Remote(why)),
            (other, _) => Err(unexpected(&other)),
        }
    }

    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let request = RemoteRequest::Put {
            name: name.into(),
            len: bytes.len() as u64,
        };
        self.done(&request, bytes)
    }

    fn delete(&self, names: &[String]) -> Result<(), StorageError> {
        self.done(
            &RemoteRequest::Delete {
                names: names.to_vec(),
            },
            &[],
        )
    }

    fn delete_folders(&self, folders: &[String]) -> Result<(), StorageError> {
        self.done(
            &RemoteRequest::DeleteFolders {
                folders: folders.to_vec(),
            },
            &[],
        )
    }
}
