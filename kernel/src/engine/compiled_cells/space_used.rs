//! What the kept builds hold, counted as builds are kept, so that the folder is scanned (and
//! its least recently used entries removed) only once the count passes the limit. A scan reads
//! the size of every file of every entry: tens of milliseconds once there are thousands of
//! entries, which every cell build used to pay.
//!
//! The count is a file beside the folder of entries. Two kernels may add at once and one
//! addition be lost; that only delays a scan, which then counts afresh.

use std::path::{Path, PathBuf};

/// Adds `added` bytes to the count of the entries in `root`; when the count passes `limit`, or
/// there is none yet, trims the folder (`entry::trim`) and counts what is left.
pub fn add(root: &Path, added: u64, limit: u64) {
    let counted = read(root).map(|total| total.saturating_add(added));
    let total = match counted {
        Some(total) if total <= limit => total,
        _ => super::entry::trim(root, limit),
    };
    if let Err(error) = write(root, total) {
        eprintln!(
            "cellar: could not write the size of the kept builds ({}): {error}",
            count_file(root).display()
        );
    }
}

/// `<seed>/compiled-cells.bytes` for the folder `<seed>/compiled-cells`.
fn count_file(root: &Path) -> PathBuf {
    root.with_extension("bytes")
}

fn read(root: &Path) -> Option<u64> {
    std::fs::read_to_string(count_file(root))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Written whole: a reader sees the old count or the new.
fn write(root: &Path, total: u64) -> std::io::Result<()> {
    super::super::whole_file::write(&count_file(root), total.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(root: &Path, name: &str, bytes: usize) {
        std::fs::create_dir_all(root.join(name)).unwrap();
        std::fs::write(root.join(name).join("libctx.so"), vec![0u8; bytes]).unwrap();
    }

    #[test]
    fn the_folder_is_scanned_only_when_the_count_passes_the_limit() {
        let seed = tempfile::tempdir().unwrap();
        let root = seed.path().join("compiled-cells");
        entry(&root, "a", 600);
        // No count yet: a scan counts what is there.
        add(&root, 600, 1000);
        assert_eq!(read(&root), Some(600));
        // Under the limit, the count grows without a scan: an entry written behind the
        // count's back stays.
        entry(&root, "b", 300);
        add(&root, 300, 1000);
        assert_eq!(read(&root), Some(900));
        entry(&root, "unseen", 5000);
        add(&root, 0, 1000);
        assert!(root.join("unseen").exists());
        // Past the limit: a scan trims the oldest entries and counts what is left.
        entry(&root, "c", 200);
        add(&root, 200, 1000);
        let left: u64 = ["a", "b", "c", "unseen"]
            .iter()
            .filter(|name| root.join(name).exists())
            .map(|name| {
                std::fs::metadata(root.join(name).join("libctx.so"))
                    .unwrap()
                    .len()
            })
            .sum();
        assert!(left <= 1000, "{left}");
        assert_eq!(read(&root), Some(left));
    }

    #[test]
    fn a_count_that_cannot_be_read_is_made_again() {
        let seed = tempfile::tempdir().unwrap();
        let root = seed.path().join("compiled-cells");
        entry(&root, "a", 100);
        std::fs::write(count_file(&root), "not a number").unwrap();
        add(&root, 100, 1000);
        assert_eq!(read(&root), Some(100));
        let names: Vec<_> = std::fs::read_dir(seed.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
    }
}
