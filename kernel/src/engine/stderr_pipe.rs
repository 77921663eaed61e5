//! The kernel's end of the pipe the cell process writes its stderr to.
//!
//! evcxr reads the cell process's stderr on a thread of its own and never says when it has read
//! everything. What a cell writes there is in the pipe before the cell's end is announced on
//! stdout, so once the pipe holds no unread byte (`FIONREAD`), all of it has reached evcxr's
//! thread: the output capture need not wait for stderr to go quiet. Found through `/proc` (Linux);
//! elsewhere, or when the descriptor cannot be found, there is nothing to ask and the capture
//! waits as before.

use std::os::fd::RawFd;
use std::path::PathBuf;

pub struct StderrPipe {
    child: u32,
    fd: RawFd,
    /// What `/proc` calls the pipe (`pipe:[inode]`), to notice a descriptor used again.
    pipe: PathBuf,
}

impl StderrPipe {
    /// The read end of `child`'s stderr pipe, among this process's descriptors.
    pub fn of(child: u32) -> Option<StderrPipe> {
        let pipe = std::fs::read_link(format!("/proc/{child}/fd/2")).ok()?;
        if !pipe.to_string_lossy().starts_with("pipe:") {
            return None;
        }
        let fd = std::fs::read_dir("/proc/self/fd")
            .ok()?
            .flatten()
            .find_map(|entry| {
                let fd: RawFd = entry.file_name().to_str()?.parse().ok()?;
                (std::fs::read_link(entry.path()).ok()? == pipe && is_read_end(fd)).then_some(fd)
            })?;
        Some(StderrPipe { child, fd, pipe })
    }

    /// The process whose stderr this is.
    pub fn child(&self) -> u32 {
        self.child
    }

    /// Bytes in the pipe not read yet; None when the descriptor is no longer that pipe.
    pub fn unread(&self) -> Option<usize> {
        if std::fs::read_link(format!("/proc/self/fd/{}", self.fd)).ok()? != self.pipe {
            return None;
        }
        let mut bytes: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int through the pointer, which outlives the call.
        let asked = unsafe { libc::ioctl(self.fd, libc::FIONREAD, &mut bytes) };
        (asked == 0).then_some(bytes.max(0) as usize)
    }
}

fn is_read_end(fd: RawFd) -> bool {
    // SAFETY: F_GETFL only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    flags >= 0 && flags & libc::O_ACCMODE == libc::O_RDONLY
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::process::{Command, Stdio};

    #[test]
    fn what_a_child_wrote_to_stderr_is_unread_until_read() {
        let mut child = Command::new("sh")
            .args(["-c", "printf 'late line\\n' >&2; sleep 5"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pipe = StderrPipe::of(child.id()).expect("the pipe is found");
        assert_eq!(pipe.child(), child.id());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while pipe.unread() != Some(10) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(pipe.unread(), Some(10));
        let mut line = [0u8; 10];
        child
            .stderr
            .as_mut()
            .unwrap()
            .read_exact(&mut line)
            .unwrap();
        assert_eq!(&line, b"late line\n");
        assert_eq!(pipe.unread(), Some(0));
        child.kill().unwrap();
        child.wait().unwrap();
        drop(child.stderr.take());
        assert_eq!(pipe.unread(), None, "a closed descriptor is not the pipe");
    }

    #[test]
    fn a_child_whose_stderr_is_not_a_pipe_of_ours_has_none() {
        let mut child = Command::new("sleep")
            .arg("5")
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        assert!(StderrPipe::of(child.id()).is_none());
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
