//! Output replay: what a cached function printed while it ran is printed again on every hit.
//!
//! On a miss of the outermost cached call the body's output is recorded at the file-descriptor
//! level ([`capture`]): everything written to fds 1 and 2 — Rust prints, C libraries, child
//! processes, and `cellar::display` lines, which travel on stdout — is forwarded live and kept,
//! in order, as a list of chunks stored with the entry. A hit writes the chunks back to fds 1
//! and 2. A nested cached call that misses keeps the slice of the outer recording written while
//! it ran; a nested hit writes its chunks into the outer recording like any other output, so
//! every mix of hits and misses replays in the original order. Records die with their entry.
//!
//! Recording is notebook behaviour (see [`crate::env`]) and one recording runs at a time in a
//! process: a miss on another thread while one runs is not recorded (its output still shows
//! live, and lands in the running recording). On other platforms than Unix nothing is recorded.

mod capture;
#[cfg(unix)]
mod posix;

use std::cell::Cell;
use std::io::Write;
use std::sync::Arc;

/// Which stream a chunk was written to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub(crate) fn fd(self) -> i32 {
        match self {
            Stream::Stdout => 1,
            Stream::Stderr => 2,
        }
    }
}

/// Bytes written to one stream, in one piece.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub stream: Stream,
    pub bytes: Box<[u8]>,
}

/// What a computation printed, kept with its entry (`None`: nothing, or not recorded).
pub(crate) type Record = Option<Arc<[Chunk]>>;

thread_local! {
    /// Whether this thread owns the running recording (its outermost cached call started it).
    static RECORDING: Cell<bool> = const { Cell::new(false) };
}

/// The recording of an outermost miss.
pub(crate) struct Recording {
    capture: Option<capture::Capture>,
}

impl Recording {
    /// Starts recording fds 1 and 2, if this process records and no other recording runs.
    pub fn start() -> Recording {
        let capture = if crate::env::in_notebook() {
            capture::Capture::start()
        } else {
            None
        };
        if capture.is_some() {
            RECORDING.set(true);
        }
        Recording { capture }
    }

    /// Stops recording, restores the streams, and returns what was written.
    pub fn finish(mut self) -> Record {
        let capture = self.capture.take()?;
        RECORDING.set(false);
        record_of(capture.finish())
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if let Some(capture) = self.capture.take() {
            RECORDING.set(false);
            capture.finish();
        }
    }
}

/// What a nested miss prints, read from the running recording of the outermost cached call:
/// the nested call replays it on its own hits, and the outer recording keeps it as well.
pub(crate) struct NestedRecording {
    /// Where the nested miss began in the running recording; `None` when nothing records.
    start: Option<usize>,
}

impl NestedRecording {
    /// Marks where the nested miss begins.
    pub fn start() -> NestedRecording {
        NestedRecording {
            start: if RECORDING.get() {
                capture::mark()
            } else {
                None
            },
        }
    }

    /// What was written since the start.
    pub fn finish(self) -> Record {
        let start = self.start?;
        let end = capture::mark()?;
        record_of(capture::chunks(start..end))
    }
}

/// Joins neighbouring chunks of one stream; an empty recording is no record.
fn record_of(chunks: Vec<Chunk>) -> Record {
    let mut merged: Vec<Chunk> = Vec::with_capacity(chunks.len());
    for chunk in chunks {
        match merged.last_mut() {
            Some(last) if last.stream == chunk.stream => {
                let mut bytes = std::mem::take(&mut last.bytes).into_vec();
                bytes.extend_from_slice(&chunk.bytes);
                last.bytes = bytes.into_boxed_slice();
            }
            _ => merged.push(chunk),
        }
    }
    (!merged.is_empty()).then(|| merged.into())
}

/// Writes a record back to fds 1 and 2, in order, after what Rust's streams still buffer.
pub(crate) fn replay(record: &Record) {
    let Some(chunks) = record else { return };
    flush_std();
    for chunk in chunks.iter() {
        capture::write_fd(chunk.stream.fd(), &chunk.bytes);
    }
}

/// Writes to the stream the user sees, past a running recording: for output that must not be
/// replayed (the spinner).
pub(crate) fn write_live(stream: Stream, bytes: &[u8]) {
    if !capture::write_saved(stream.fd(), bytes) {
        match stream {
            Stream::Stdout => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(bytes).and_then(|()| out.flush());
            }
            Stream::Stderr => {
                let _ = std::io::stderr().lock().write_all(bytes);
            }
        }
    }
}

fn flush_std() {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(stream: Stream, text: &str) -> Chunk {
        Chunk {
            stream,
            bytes: text.as_bytes().into(),
        }
    }

    #[test]
    fn neighbouring_chunks_of_a_stream_merge() {
        let record = record_of(vec![
            chunk(Stream::Stdout, "a"),
            chunk(Stream::Stdout, "b"),
            chunk(Stream::Stderr, "c"),
            chunk(Stream::Stdout, "d"),
        ])
        .unwrap();
        assert_eq!(
            &*record,
            &[
                chunk(Stream::Stdout, "ab"),
                chunk(Stream::Stderr, "c"),
                chunk(Stream::Stdout, "d")
            ]
        );
        assert!(record_of(Vec::new()).is_none());
    }
}
