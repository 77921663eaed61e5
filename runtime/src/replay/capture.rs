//! Recording fds 1 and 2 while still showing their output live.
//!
//! `start` points fds 1 and 2 at two pipes (`dup2`) and keeps duplicates of the original
//! descriptors. One forwarder thread `poll`s both pipes and, for every piece read, writes it to
//! the original descriptor (so the user sees output as it comes) and appends it to the chunk
//! list. The pipes' read ends are non-blocking and read under the recorder's lock, so `mark` —
//! called by the recording thread itself after flushing Rust's buffers — can drain whatever was
//! written up to that instant and return an exact position in the chunk list. `finish` flushes,
//! puts the original descriptors back, tells the forwarder to drain what is left and stop
//! (it does not wait for end-of-file: a child process may still hold the pipe), and joins it.

use super::{Chunk, Stream};

/// Past this many recorded bytes output is still forwarded but no longer kept, so a function
/// that prints gigabytes does not keep them in memory.
const MAX_RECORDED: usize = 64 << 20;

#[cfg(unix)]
pub(super) use unix::{chunks, mark, write_fd, write_saved, Capture};

#[cfg(not(unix))]
pub(super) use other::{chunks, mark, write_fd, write_saved, Capture};

#[cfg(unix)]
mod unix {
    use super::{Chunk, Stream, MAX_RECORDED};
    use crate::replay::posix;
    use std::io::Write;
    use std::os::fd::RawFd;
    use std::sync::{Arc, Mutex, MutexGuard};
    use std::thread::JoinHandle;

    const STREAMS: [Stream; 2] = [Stream::Stdout, Stream::Stderr];

    #[derive(Default)]
    struct Recorder {
        chunks: Vec<Chunk>,
        bytes: usize,
        truncated: bool,
        /// Read buffer, kept between drains.
        buffer: Vec<u8>,
    }

    /// The descriptors of the running capture.
    struct Active {
        /// Duplicates of the original fds 1 and 2.
        saved: [RawFd; 2],
        /// Read ends of the pipes now behind fds 1 and 2 (non-blocking).
        pipes: [RawFd; 2],
        /// Written once to stop the forwarder.
        stop: [RawFd; 2],
        recorder: Arc<Mutex<Recorder>>,
    }

    static ACTIVE: Mutex<Option<Active>> = Mutex::new(None);

    fn active() -> MutexGuard<'static, Option<Active>> {
        ACTIVE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock(recorder: &Mutex<Recorder>) -> MutexGuard<'_, Recorder> {
        recorder
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A running capture; `finish` ends it.
    pub struct Capture {
        forwarder: Option<JoinHandle<()>>,
    }

    impl Capture {
        /// Starts capturing, unless a capture runs already or the descriptors can't be set up.
        pub fn start() -> Option<Capture> {
            let mut slot = active();
            if slot.is_some() {
                return None;
            }
            flush_std();
            let (active, forwarder) = setup()?;
            *slot = Some(active);
            Some(Capture {
                forwarder: Some(forwarder),
            })
        }

        /// Restores fds 1 and 2 and returns every chunk recorded.
        pub fn finish(mut self) -> Vec<Chunk> {
            flush_std();
            let Some(active) = active().take() else {
                return Vec::new();
            };
            // SAFETY: plain descriptor calls on descriptors this module owns.
            unsafe {
                posix::dup2(active.saved[0], 1);
                posix::dup2(active.saved[1], 2);
                write_all(active.stop[1], b"x");
            }
            if let Some(forwarder) = self.forwarder.take() {
                let _ = forwarder.join();
            }
            // The forwarder drained both pipes after the restore; forward anything still there.
            drain(&active, &mut lock(&active.recorder));
            for fd in active
                .saved
                .into_iter()
                .chain(active.pipes)
                .chain(active.stop)
            {
                // SAFETY: closing descriptors this module opened, once.
                unsafe { posix::close(fd) };
            }
            let mut recorder = lock(&active.recorder);
            let mut chunks = std::mem::take(&mut recorder.chunks);
            if recorder.truncated {
                let note = format!(
                    "[cellar: output past {} MiB was not recorded for replay]\n",
                    MAX_RECORDED >> 20
                );
                chunks.push(Chunk {
                    stream: Stream::Stderr,
                    bytes: note.into_bytes().into(),
                });
            }
            chunks
        }
    }

    fn setup() -> Option<(Active, JoinHandle<()>)> {
        let out = pipe()?;
        let err = pipe().or_else(|| close_all(&out))?;
        let stop = pipe().or_else(|| close_all(&[out[0], out[1], err[0], err[1]]))?;
        // SAFETY: duplicating and redirecting descriptors; every failure path closes what it made.
        let saved = unsafe {
            [
                posix::fcntl(1, posix::F_DUPFD_CLOEXEC, 3),
                posix::fcntl(2, posix::F_DUPFD_CLOEXEC, 3),
            ]
        };
        if saved.contains(&-1) {
            return close_all(&[
                out[0], out[1], err[0], err[1], stop[0], stop[1], saved[0], saved[1],
            ]);
        }
        unsafe {
            posix::fcntl(out[0], posix::F_SETFL, posix::O_NONBLOCK);
            posix::fcntl(err[0], posix::F_SETFL, posix::O_NONBLOCK);
            posix::dup2(out[1], 1);
            posix::dup2(err[1], 2);
            posix::close(out[1]);
            posix::close(err[1]);
        }
        let active = Active {
            saved,
            pipes: [out[0], err[0]],
            stop,
            recorder: Arc::default(),
        };
        let view = Active {
            saved,
            pipes: active.pipes,
            stop,
            recorder: active.recorder.clone(),
        };
        let forwarder = std::thread::Builder::new()
            .name("cellar-replay".into())
            .spawn(move || forward(view));
        match forwarder {
            Ok(forwarder) => Some((active, forwarder)),
            Err(_) => {
                unsafe {
                    posix::dup2(saved[0], 1);
                    posix::dup2(saved[1], 2);
                }
                close_all(&[out[0], err[0], stop[0], stop[1], saved[0], saved[1]])
            }
        }
    }

    /// The forwarder: wait for output or the stop signal, drain, repeat; drain once more at stop.
    fn forward(active: Active) {
        let mut polled = [
            posix::pollfd {
                fd: active.pipes[0],
                events: posix::POLLIN,
                revents: 0,
            },
            posix::pollfd {
                fd: active.pipes[1],
                events: posix::POLLIN,
                revents: 0,
            },
            posix::pollfd {
                fd: active.stop[0],
                events: posix::POLLIN,
                revents: 0,
            },
        ];
        loop {
            // SAFETY: polling three valid descriptors.
            let ready = unsafe { posix::poll(polled.as_mut_ptr(), 3, -1) };
            if ready < 0
                && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
            {
                break;
            }
            drain(&active, &mut lock(&active.recorder));
            if polled[2].revents != 0 {
                break;
            }
            // A pipe whose writers are all gone (hang-up) would wake poll forever: stop polling it.
            for entry in &mut polled[..2] {
                if entry.revents & (posix::POLLHUP | posix::POLLERR) != 0
                    && entry.revents & posix::POLLIN == 0
                {
                    entry.fd = -1;
                }
            }
        }
    }

    /// Reads both pipes until they are empty, forwarding and recording each piece.
    fn drain(active: &Active, recorder: &mut Recorder) {
        let mut buffer = std::mem::take(&mut recorder.buffer);
        buffer.resize(64 * 1024, 0);
        for (i, stream) in STREAMS.into_iter().enumerate() {
            loop {
                // SAFETY: reading into a buffer we own, of its length.
                let n = unsafe {
                    posix::read(active.pipes[i], buffer.as_mut_ptr().cast(), buffer.len())
                };
                if n <= 0 {
                    if n < 0
                        && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
                    {
                        continue;
                    }
                    break;
                }
                let bytes = &buffer[..n as usize];
                write_all(active.saved[i], bytes);
                if recorder.bytes + bytes.len() > MAX_RECORDED {
                    recorder.truncated = true;
                } else if !recorder.truncated {
                    recorder.bytes += bytes.len();
                    recorder.chunks.push(Chunk {
                        stream,
                        bytes: bytes.into(),
                    });
                }
            }
        }
        recorder.buffer = buffer;
    }

    /// The number of chunks recorded so far, after draining everything written until now
    /// (`None` when no capture runs).
    pub fn mark() -> Option<usize> {
        flush_std();
        let guard = active();
        let active = guard.as_ref()?;
        let mut recorder = lock(&active.recorder);
        drain(active, &mut recorder);
        Some(recorder.chunks.len())
    }

    /// A copy of the chunks in `range` of the running capture.
    pub fn chunks(range: std::ops::Range<usize>) -> Vec<Chunk> {
        let guard = active();
        let Some(active) = guard.as_ref() else {
            return Vec::new();
        };
        let recorder = lock(&active.recorder);
        recorder
            .chunks
            .get(range)
            .map(<[Chunk]>::to_vec)
            .unwrap_or_default()
    }

    /// Writes to the original descriptor behind `fd` if a capture runs; false if none runs.
    pub fn write_saved(fd: i32, bytes: &[u8]) -> bool {
        let guard = active();
        let Some(active) = guard.as_ref() else {
            return false;
        };
        write_all(active.saved[(fd - 1) as usize], bytes);
        true
    }

    /// Writes all of `bytes` to a descriptor (retrying short writes and interruptions).
    pub fn write_fd(fd: i32, bytes: &[u8]) {
        write_all(fd, bytes);
    }

    fn write_all(fd: RawFd, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            // SAFETY: writing from a slice we borrow, of its length.
            let n = unsafe { posix::write(fd, bytes.as_ptr().cast(), bytes.len()) };
            if n < 0 {
                match std::io::Error::last_os_error().kind() {
                    std::io::ErrorKind::Interrupted => continue,
                    std::io::ErrorKind::WouldBlock => {
                        let mut entry = posix::pollfd {
                            fd,
                            events: posix::POLLOUT,
                            revents: 0,
                        };
                        // SAFETY: polling one valid descriptor.
                        unsafe { posix::poll(&mut entry, 1, 100) };
                        continue;
                    }
                    _ => return,
                }
            }
            bytes = &bytes[n as usize..];
        }
    }

    fn pipe() -> Option<[RawFd; 2]> {
        let mut fds = [0; 2];
        // SAFETY: `pipe2` fills the two descriptors on success.
        (unsafe { posix::pipe2(fds.as_mut_ptr(), posix::O_CLOEXEC) } == 0).then_some(fds)
    }

    fn close_all<T>(fds: &[RawFd]) -> Option<T> {
        for &fd in fds {
            if fd >= 0 {
                // SAFETY: closing descriptors this module opened.
                unsafe { posix::close(fd) };
            }
        }
        None
    }

    fn flush_std() {
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
    }
}

#[cfg(not(unix))]
mod other {
    use super::Chunk;
    use std::io::Write;

    pub struct Capture;

    impl Capture {
        pub fn start() -> Option<Capture> {
            None
        }

        pub fn finish(self) -> Vec<Chunk> {
            Vec::new()
        }
    }

    pub fn mark() -> Option<usize> {
        None
    }

    pub fn chunks(_: std::ops::Range<usize>) -> Vec<Chunk> {
        Vec::new()
    }

    pub fn write_saved(_: i32, _: &[u8]) -> bool {
        false
    }

    pub fn write_fd(fd: i32, bytes: &[u8]) {
        let _ = if fd == 2 {
            std::io::stderr().write_all(bytes)
        } else {
            std::io::stdout().write_all(bytes)
        };
    }
}
