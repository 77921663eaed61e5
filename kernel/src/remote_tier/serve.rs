//! The socket the runtime asks the remote tier on (`cellar::protocol`, "Remote tier"): one
//! request per connection, each answered on a task of its own, so a read a cell waits for is
//! not queued behind an upload.

use super::RemoteTier;
use cellar::protocol::{RemoteReply, RemoteRequest};
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// The largest entry the kernel takes from the runtime (an entry is held in memory whole).
const LARGEST_ENTRY: u64 = 16 << 30;

/// Serves `tier` on `socket` until the kernel exits. Call inside the kernel's async runtime.
pub fn serve(tier: Arc<RemoteTier>, socket: &Path) -> std::io::Result<()> {
    let _ = std::fs::remove_file(socket);
    let listener = UnixListener::bind(socket)?;
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let tier = tier.clone();
                    tokio::spawn(async move {
                        if let Err(error) = answer(&tier, stream).await {
                            eprintln!("cellar: a remote-tier request from the cell process failed: {error}");
                        }
                    });
                }
                Err(error) => {
                    eprintln!("cellar: the remote-tier socket stopped accepting: {error}");
                    return;
                }
            }
        }
    });
    Ok(())
}

async fn answer(tier: &RemoteTier, stream: UnixStream) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let (reply, payload) = match serde_json::from_str::<RemoteRequest>(&line) {
        Ok(request) => handle(tier, request, &mut reader).await?,
        Err(error) => (
            RemoteReply::Failed {
                why: format!("the kernel cannot read the request {line:?}: {error}"),
            },
            bytes::Bytes::new(),
        ),
    };
    let mut line = serde_json::to_string(&reply).expect("a reply serializes");
    line.push('\n');
    write.write_all(line.as_bytes()).await?;
    write.write_all(&payload).await?;
    write.shutdown().await
}

async fn handle(
    tier: &RemoteTier,
    request: RemoteRequest,
    reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
) -> std::io::Result<(RemoteReply, bytes::Bytes)> {
    let done = |outcome: Result<(), String>| match outcome {
        Ok(()) => RemoteReply::Done,
        Err(why) => RemoteReply::Failed { why },
    };
    Ok(match request {
        RemoteRequest::Get { name } => match tier.get(&name).await {
            Ok(Some(bytes)) => (
                RemoteReply::Found {
                    len: bytes.len() as u64,
                },
                bytes,
            ),
            Ok(None) => (RemoteReply::Missing, bytes::Bytes::new()),
            Err(why) => (RemoteReply::Failed { why }, bytes::Bytes::new()),
        },
        RemoteRequest::Put { name, len } => {
            if len > LARGEST_ENTRY {
                let why = format!("an entry of {len} bytes is larger than the remote tier takes");
                return Ok((RemoteReply::Failed { why }, bytes::Bytes::new()));
            }
            let mut bytes = vec![0; len as usize];
            reader.read_exact(&mut bytes).await?;
            let stored = tier.put(&name, bytes.into()).await;
            (done(stored), bytes::Bytes::new())
        }
        RemoteRequest::Delete { names } => (done(tier.delete(&names).await), bytes::Bytes::new()),
        RemoteRequest::DeleteFolders { folders } => {
            let removed = tier.delete_folders(&folders).await.map(drop);
            (done(removed), bytes::Bytes::new())
        }
    })
}
