//! Copies of the standard library source that no kernel used for a while leave the seed folder.
//!
//! A seed holds one copy per toolchain and per format of the copy (`std_source`), about 20 MB
//! each, and a toolchain update makes a new one: left alone, every update would leave its old
//! copy behind. A kernel marks the copy it reads when it starts (the folder's modification
//! time). Copies, and copies left unfinished, that no kernel marked for [`UNUSED_FOR`] are
//! removed; a kernel of that toolchain starting later makes its copy again.

use super::leftover_folders;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// How long a copy no kernel started with stays.
const UNUSED_FOR: Duration = Duration::from_secs(14 * 24 * 60 * 60);

/// Marks `copy` as read by a kernel starting now.
pub fn mark_used(copy: &Path) -> std::io::Result<()> {
    std::fs::File::open(copy)?.set_modified(SystemTime::now())
}

/// Removes the folders in `seed` whose names start with `prefix` (the copies, finished or
/// not) that were not marked for [`UNUSED_FOR`], all but `in_use`. Returns what it removed;
/// what it could not remove it says in the kernel's log and leaves (`leftover_folders`).
pub fn forget_unused(seed: &Path, prefix: &str, in_use: &Path) -> Vec<String> {
    let unused = |copy: &Path| {
        copy != in_use
            && std::fs::metadata(copy)
                .and_then(|metadata| metadata.modified())
                .is_ok_and(|marked| marked.elapsed().is_ok_and(|age| age > UNUSED_FOR))
    };
    leftover_folders::remove(
        seed,
        prefix,
        unused,
        "an unused copy of the standard library source",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_marked(path: &Path, days_ago: u64) {
        std::fs::create_dir_all(path).unwrap();
        let marked = SystemTime::now() - Duration::from_secs(days_ago * 24 * 60 * 60);
        std::fs::File::open(path)
            .unwrap()
            .set_modified(marked)
            .unwrap();
    }

    #[test]
    fn copies_no_kernel_marked_for_two_weeks_are_removed_and_no_other_folder() {
        let seed = tempfile::tempdir().unwrap();
        let at = |name: &str| seed.path().join(name);
        folder_marked(&at("std-source-old"), 30);
        folder_marked(&at("std-source.partial-abc"), 30);
        folder_marked(&at("std-source-other-toolchain"), 3);
        folder_marked(&at("std-source-in-use"), 30);
        folder_marked(&at("kernels"), 30);
        let mut removed = forget_unused(seed.path(), "std-source", &at("std-source-in-use"));
        removed.sort();
        assert_eq!(removed, ["std-source-old", "std-source.partial-abc"]);
        for kept in ["std-source-other-toolchain", "std-source-in-use", "kernels"] {
            assert!(at(kept).is_dir(), "{kept}");
        }
    }

    #[test]
    fn a_copy_a_kernel_starts_with_is_marked_used() {
        let seed = tempfile::tempdir().unwrap();
        let copy = seed.path().join("std-source-x");
        folder_marked(&copy, 30);
        mark_used(&copy).unwrap();
        let removed = forget_unused(seed.path(), "std-source", &seed.path().join("elsewhere"));
        assert!(removed.is_empty() && copy.is_dir());
    }

    #[test]
    fn a_seed_that_cannot_be_read_removes_nothing() {
        let missing = Path::new("/nonexistent/seed");
        assert!(forget_unused(missing, "std-source", missing).is_empty());
    }
}
