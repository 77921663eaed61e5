//! Keeps a folder of entries under its size limit, least recently used first.
//!
//! "Used" is an entry file's modification time: set when the entry is written and when a
//! process loads it from disk (each new kernel or CI run that hits it). Temporary files that a
//! killed writer left behind are removed once they are an hour old.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub(crate) const ENTRY_EXTENSION: &str = "entry";
pub(crate) const TEMP_EXTENSION: &str = "tmp";
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// One entry file found on disk.
struct Found {
    path: PathBuf,
    bytes: u64,
    used: SystemTime,
}

/// How many entry files `root` holds and their bytes.
pub(crate) fn usage(root: &Path) -> (usize, u64) {
    let found = entries(root);
    (found.len(), found.iter().map(|f| f.bytes).sum())
}

/// The bytes of the entry files in one function's folder.
pub(crate) fn folder_bytes(dir: &Path) -> u64 {
    files(dir, ENTRY_EXTENSION).iter().map(|f| f.bytes).sum()
}

/// Removes least recently used entries until `root` holds at most `limit` bytes; returns how
/// many were removed.
pub(crate) fn trim(root: &Path, limit: u64) -> usize {
    let mut found = entries(root);
    let mut total: u64 = found.iter().map(|f| f.bytes).sum();
    if total <= limit {
        return 0;
    }
    found.sort_by_key(|f| f.used);
    let mut removed = 0;
    for file in found {
        if total <= limit {
            break;
        }
        if fs::remove_file(&file.path).is_ok() {
            total -= file.bytes;
            removed += 1;
        }
    }
    removed
}

/// The names of the function folders under `root`.
pub(crate) fn function_folders(root: &Path) -> Vec<String> {
    let Ok(folders) = fs::read_dir(root) else {
        return Vec::new();
    };
    folders
        .flatten()
        .filter(|f| f.path().is_dir())
        .filter_map(|f| f.file_name().into_string().ok())
        .collect()
}

/// Removes every entry file under `root`, and the function folders left empty. Nothing else is
/// touched: the cache folder may be one the user shares with other files.
pub(crate) fn clear(root: &Path) {
    let Ok(folders) = fs::read_dir(root) else {
        return;
    };
    for folder in folders.flatten().map(|f| f.path()).filter(|p| p.is_dir()) {
        for file in files(&folder, ENTRY_EXTENSION)
            .into_iter()
            .chain(files(&folder, TEMP_EXTENSION))
        {
            let _ = fs::remove_file(file.path);
        }
        let _ = fs::remove_dir(folder);
    }
}

/// Every entry file under `root` (one folder per function), after clearing stale temp files.
fn entries(root: &Path) -> Vec<Found> {
    let Ok(folders) = fs::read_dir(root) else {
        return Vec::new();
    };
    let now = SystemTime::now();
    let mut found = Vec::new();
    for folder in folders.flatten().map(|f| f.path()).filter(|p| p.is_dir()) {
        for temp in files(&folder, TEMP_EXTENSION) {
            if now
                .duration_since(temp.used)
                .is_ok_and(|age| age > STALE_TEMP)
            {
                let _ = fs::remove_file(temp.path);
            }
        }
        found.extend(files(&folder, ENTRY_EXTENSION));
    }
    found
}

fn files(dir: &Path, extension: &str) -> Vec<Found> {
    let Ok(listing) = fs::read_dir(dir) else {
        return Vec::new();
    };
    listing
        .flatten()
        .filter(|f| f.path().extension().is_some_and(|e| e == extension))
        .filter_map(|f| {
            let meta = f.metadata().ok()?;
            Some(Found {
                path: f.path(),
                bytes: meta.len(),
                used: meta.modified().ok()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_entries_go_first() {
        let root = std::env::temp_dir().join(format!("cellar-trim-{}", std::process::id()));
        let folder = root.join("f-0123");
        fs::create_dir_all(&folder).unwrap();
        let old = SystemTime::now() - Duration::from_secs(100);
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            let path = folder.join(format!("{name}.entry"));
            fs::write(&path, [0u8; 100]).unwrap();
            let file = fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(old + Duration::from_secs(i as u64 * 10))
                .unwrap();
        }
        let temp = folder.join("x.tmp");
        fs::write(&temp, b"half").unwrap();
        fs::File::options()
            .write(true)
            .open(&temp)
            .unwrap()
            .set_modified(old - STALE_TEMP)
            .unwrap();
        assert_eq!(usage(&root), (3, 300));
        assert_eq!(trim(&root, 300), 0);
        assert_eq!(trim(&root, 150), 2);
        assert!(folder.join("c.entry").exists(), "the newest stays");
        assert!(!folder.join("a.entry").exists() && !folder.join("b.entry").exists());
        assert!(!temp.exists(), "a stale temp file is removed");
        assert_eq!(folder_bytes(&folder), 100);
        let other = folder.join("notes.txt");
        fs::write(&other, b"mine").unwrap();
        clear(&root);
        assert_eq!(usage(&root), (0, 0));
        assert!(other.exists(), "clear leaves other files alone");
        fs::remove_dir_all(root).unwrap();
    }
}
