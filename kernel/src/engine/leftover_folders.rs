//! Removing leftover folders: those of one family in a folder (their names start the same) that
//! a test picks out, such as a dead kernel's folder or a copy no kernel uses.
//!
//! Kernels start side by side and may remove the same leftover at once, so a folder that is
//! gone when its removal fails was removed by another process, not lost to an error. One that
//! stays is left, with a line in the kernel's log.

use std::path::Path;

/// Removes the folders in `parent` whose names start with `prefix` and that `leftover` picks;
/// returns the names of those this call removed. `what` says what they are, for the log.
pub fn remove(
    parent: &Path,
    prefix: &str,
    leftover: impl Fn(&Path) -> bool,
    what: &str,
) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let folder = entry.path();
        if !name.starts_with(prefix) || !leftover(&folder) {
            continue;
        }
        match std::fs::remove_dir_all(&folder) {
            Ok(()) => removed.push(name),
            Err(error) if folder.exists() => {
                eprintln!(
                    "cellar: could not remove {what} {}: {error}",
                    folder.display()
                )
            }
            Err(_) => {}
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_picked_folders_of_the_family_go() {
        let parent = tempfile::tempdir().unwrap();
        for name in ["copy-old", "copy-new", "other-old"] {
            std::fs::create_dir(parent.path().join(name)).unwrap();
        }
        let old = |folder: &Path| folder.to_string_lossy().ends_with("-old");
        assert_eq!(remove(parent.path(), "copy-", old, "a copy"), ["copy-old"]);
        assert!(parent.path().join("copy-new").is_dir());
        assert!(parent.path().join("other-old").is_dir());
    }

    #[test]
    fn a_parent_that_cannot_be_read_removes_nothing() {
        let missing = Path::new("/nonexistent/parent");
        assert!(remove(missing, "copy-", |_| true, "a copy").is_empty());
    }
}
