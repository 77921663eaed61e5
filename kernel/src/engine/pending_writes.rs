//! Waiting for the cell process's disk writes before a cell's reply.
//!
//! The runtime copies every `cache_data` entry to the kernel's store folder, off the cell's
//! thread, so a cell process that dies later loses nothing. While copies are queued, a marker
//! file named after the process id exists in `<store>/pending/` (see `cellar::protocol`). The
//! kernel answers a cell only once its process has no marker: when a cell is reported done, its
//! entries are on disk. A marker of a process that is gone (it died mid-write) is removed.

use cellar::protocol::{PENDING_DIR, STORE_DIR_ENV};
use std::path::PathBuf;
use std::process::Child;
use std::sync::Mutex;
use std::time::Duration;

/// The store folder the workspace gave the cell process.
fn pending_dir() -> Option<PathBuf> {
    std::env::var_os(STORE_DIR_ENV).map(|store| PathBuf::from(store).join(PENDING_DIR))
}

/// Returns once the cell process has no write pending, or is gone.
pub fn wait(child: &Mutex<Child>) {
    let Some(dir) = pending_dir() else { return };
    loop {
        let markers: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(listing) => listing.flatten().map(|entry| entry.path()).collect(),
            Err(_) => return,
        };
        let live = {
            let mut child = child
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            matches!(child.try_wait(), Ok(None)).then(|| child.id().to_string())
        };
        let mut waiting = false;
        for marker in markers {
            let owner = marker
                .file_name()
                .and_then(|name| name.to_str())
                .map(str::to_string);
            if owner.is_some() && owner == live {
                waiting = true;
            } else {
                let _ = std::fs::remove_file(&marker);
            }
        }
        if !waiting {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_a_live_marker_and_clears_stale_ones() {
        let store = tempfile::tempdir().unwrap();
        let pending = store.path().join(PENDING_DIR);
        std::fs::create_dir_all(&pending).unwrap();
        std::env::set_var(STORE_DIR_ENV, store.path());
        let child = Mutex::new(
            std::process::Command::new("sleep")
                .arg("30")
                .spawn()
                .unwrap(),
        );
        let pid = child.lock().unwrap().id();
        std::fs::write(pending.join("1"), b"").unwrap();
        let marker = pending.join(pid.to_string());
        std::fs::write(&marker, b"").unwrap();
        let remover = {
            let marker = marker.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                std::fs::remove_file(marker).unwrap();
            })
        };
        let started = std::time::Instant::now();
        wait(&child);
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "waited for the live marker"
        );
        assert!(
            !pending.join("1").exists(),
            "a dead process's marker is removed"
        );
        remover.join().unwrap();
        // A marker left by the live process once it is gone does not hold the reply.
        std::fs::write(&marker, b"").unwrap();
        child.lock().unwrap().kill().unwrap();
        child.lock().unwrap().wait().unwrap();
        wait(&child);
        assert!(!marker.exists());
    }
}
