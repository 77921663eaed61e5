//! A kernel's own folder in the temporary folder, and the folders of kernels that died.
//!
//! A kernel removes its folder when it ends. One that is killed (`kill -9`, a client that gave
//! up waiting for it to shut down, a machine that ran out of memory) cannot, and its folder
//! stays: the copies of its `cache_data` entries too, which can be large. So each kernel holds an
//! exclusive lock on a file in its folder while it runs, and a kernel that starts removes every
//! other kernel folder whose lock it can take: no kernel runs there. The folder gets its name
//! only once its lock is held (it is made under another name, then renamed), so a starting
//! kernel never takes a folder another one is still making. A folder without a lock file (from
//! an older version, which may still be running), or another user's, is left alone.

use super::leftover_folders;
use anyhow::{Context, Result};
use std::fs::File;
use std::path::{Path, PathBuf};

/// How kernel folders are named in the temporary folder.
const PREFIX: &str = "cellar-kernel-";
/// The file each kernel holds locked while it runs.
const LOCK: &str = "kernel.lock";

/// This kernel's folder, locked until it is dropped, and removed then.
pub struct KernelFolder {
    pub path: PathBuf,
    _lock: File,
}

impl KernelFolder {
    /// A new folder in `parent` (the temporary folder), after the folders of kernels that died
    /// there are removed.
    pub fn create(parent: &Path) -> Result<KernelFolder> {
        remove_left_by_dead_kernels(parent);
        let id = uuid::Uuid::new_v4().simple().to_string();
        let making = parent.join(format!(".{PREFIX}{id}"));
        std::fs::create_dir_all(&making)
            .with_context(|| format!("creating the folder {}", making.display()))?;
        let lock = File::create(making.join(LOCK))
            .with_context(|| format!("creating {}", making.join(LOCK).display()))?;
        lock.try_lock()
            .with_context(|| format!("locking {}", making.join(LOCK).display()))?;
        let path = parent.join(format!("{PREFIX}{id}"));
        std::fs::rename(&making, &path)
            .with_context(|| format!("naming the folder {}", path.display()))?;
        Ok(KernelFolder { path, _lock: lock })
    }
}

impl Drop for KernelFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Removes the kernel folders in `parent` whose lock no process holds. A folder that cannot be
/// read or removed is left, with a line in the kernel's log.
fn remove_left_by_dead_kernels(parent: &Path) {
    leftover_folders::remove(
        parent,
        PREFIX,
        is_abandoned,
        "the folder of a kernel that ended",
    );
}

/// Whether `folder` is this user's and has a lock file no process holds.
fn is_abandoned(folder: &Path) -> bool {
    let Ok(metadata) = std::fs::metadata(folder) else {
        return false;
    };
    if !is_this_users(&metadata) {
        return false;
    }
    match File::open(folder.join(LOCK)) {
        Ok(lock) => lock.try_lock().is_ok(),
        Err(_) => false,
    }
}

/// Another user's kernel folders in a shared temporary folder are theirs to remove.
#[cfg(unix)]
fn is_this_users(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions.
    metadata.uid() == unsafe { libc::geteuid() }
}

#[cfg(not(unix))]
fn is_this_users(_: &std::fs::Metadata) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel_folders(parent: &Path) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(parent)
            .unwrap()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                name.starts_with(PREFIX)
            })
            .collect();
        found.sort();
        found
    }

    #[test]
    fn a_new_kernel_removes_the_folder_of_one_that_died_and_keeps_a_running_ones() {
        let parent = tempfile::tempdir().unwrap();
        let running = KernelFolder::create(parent.path()).unwrap();
        // What a killed kernel leaves: its folder and lock file, the lock held by no process.
        let died = parent.path().join(format!("{PREFIX}killed"));
        std::fs::create_dir(&died).unwrap();
        std::fs::write(died.join(LOCK), b"").unwrap();
        std::fs::write(died.join("entry"), b"a cached value").unwrap();

        let new = KernelFolder::create(parent.path()).unwrap();
        let mut expected = vec![running.path.clone(), new.path.clone()];
        expected.sort();
        assert_eq!(kernel_folders(parent.path()), expected);
    }

    #[test]
    fn a_kernel_folder_goes_when_it_is_dropped() {
        let parent = tempfile::tempdir().unwrap();
        let folder = KernelFolder::create(parent.path()).unwrap();
        let path = folder.path.clone();
        assert!(path.is_dir());
        drop(folder);
        assert!(!path.exists());
    }

    #[test]
    fn a_folder_without_a_lock_file_is_left_alone() {
        let parent = tempfile::tempdir().unwrap();
        let older = parent.path().join(format!("{PREFIX}from-an-older-version"));
        std::fs::create_dir_all(&older).unwrap();
        let new = KernelFolder::create(parent.path()).unwrap();
        assert!(older.is_dir());
        assert!(new.path.join(LOCK).is_file());
    }
}
