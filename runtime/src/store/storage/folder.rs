//! A local folder of entries: one folder per function, one file per entry.
//!
//! A file is written under a temporary name and renamed into place, so two kernels writing one
//! key leave one whole file, the last one, and a reader never sees half of one. Reading a file
//! marks it used, and every write trims the folder to its size limit, least recently used first
//! (see `trim`).

use super::{location, trim, Storage, StorageError};
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// Whether a written file is flushed to the device before it is renamed into place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sync {
    /// The cache folder: its entries are meant to outlive the machine's next crash.
    Yes,
    /// The kernel's store only has to outlive a process.
    No,
}

/// A folder of entry files.
pub struct Folder {
    root: PathBuf,
    /// What the folder is for, for messages ("the cache folder").
    role: &'static str,
    sync: Sync,
}

impl Folder {
    pub fn new(root: PathBuf, role: &'static str, sync: Sync) -> Folder {
        Folder { root, role, sync }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    fn write(&self, path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let folder = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(folder).map_err(|source| StorageError::CreateFolder {
            path: folder.to_path_buf(),
            source,
        })?;
        let temp = path.with_extension(format!(
            "{}-{}.{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            trim::TEMP_EXTENSION
        ));
        let written = fs::File::create(&temp)
            .and_then(|mut file| {
                file.write_all(bytes)?;
                if self.sync == Sync::Yes {
                    file.sync_all()?;
                }
                Ok(())
            })
            .and_then(|()| fs::rename(&temp, path));
        if let Err(source) = written {
            let _ = fs::remove_file(&temp);
            return Err(StorageError::Write {
                path: path.to_path_buf(),
                source,
            });
        }
        trim::trim(&self.root, location::limit());
        Ok(())
    }
}

impl Storage for Folder {
    fn describe(&self) -> String {
        format!("{} {}", self.role, self.root.display())
    }

    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let path = self.path(name);
        match fs::read(&path) {
            Ok(bytes) => {
                // A read is a use: the size limit trims least recently used files first.
                let _ = fs::File::options()
                    .write(true)
                    .open(&path)
                    .and_then(|file| file.set_modified(SystemTime::now()));
                Ok(Some(bytes))
            }
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StorageError::Read { path, source }),
        }
    }

    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError> {
        self.write(&self.path(name), bytes)
    }

    fn delete(&self, names: &[String]) -> Result<(), StorageError> {
        self.remove_each(names, |path| fs::remove_file(path))
    }

    fn delete_folders(&self, folders: &[String]) -> Result<(), StorageError> {
        self.remove_each(folders, |path| fs::remove_dir_all(path))
    }
}

impl Folder {
    /// Removes each named file or folder; one already gone is fine.
    fn remove_each(
        &self,
        names: &[String],
        remove: impl Fn(&Path) -> std::io::Result<()>,
    ) -> Result<(), StorageError> {
        for name in names {
            let path = self.path(name);
            match remove(&path) {
                Err(source) if source.kind() != ErrorKind::NotFound => {
                    return Err(StorageError::Remove { path, source })
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_failures_say_what_failed() {
        let root = std::env::temp_dir().join(format!("cellar-folder-{}", std::process::id()));
        let folder = Folder::new(root.clone(), "the cache folder", Sync::No);
        assert_eq!(folder.get("f-1/a.entry").unwrap(), None);
        folder.put("f-1/a.entry", b"bytes").unwrap();
        assert_eq!(
            folder.get("f-1/a.entry").unwrap().as_deref(),
            Some(&b"bytes"[..])
        );
        folder.delete(&["f-1/a.entry".into()]).unwrap();
        assert_eq!(folder.get("f-1/a.entry").unwrap(), None);
        folder.put("f-2/b.entry", b"x").unwrap();
        folder.delete_folders(&["f-2".into()]).unwrap();
        assert!(!root.join("f-2").exists());

        // A cache folder that is a file cannot hold a function's folder: that is what the
        // error says, not that an entry is damaged.
        let blocked = root.join("a-file");
        fs::write(&blocked, b"not a folder").unwrap();
        let inside = Folder::new(blocked.clone(), "the cache folder", Sync::No);
        let error = inside.put("f-1/a.entry", b"bytes").unwrap_err();
        assert!(
            matches!(&error, StorageError::CreateFolder { path, .. } if path == &blocked.join("f-1")),
            "{error}"
        );
        assert!(
            error.to_string().starts_with("cannot create the folder"),
            "{error}"
        );
        let error = inside.get("f-1/a.entry").unwrap_err();
        assert!(error.to_string().starts_with("cannot read"), "{error}");
        fs::remove_dir_all(root).unwrap();
    }
}
