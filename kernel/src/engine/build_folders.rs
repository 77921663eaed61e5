//! Build folders kept between kernels, so what one kernel compiled the next one reuses.
//!
//! evcxr compiles every cell, and every `:dep` crate, in its build folder. A folder that goes
//! with its kernel makes each restart build the `:dep` crates again (5 s for `rand`) and start
//! the cell crate's incremental cache from nothing. So kernels take a folder from a pool inside
//! the seed folder, `<seed>/kernels/<n>`. Each is held with an exclusive file lock while a kernel
//! uses it: two kernels never share one, and a kernel that dies frees its folder. A folder starts
//! as a copy of the seed's build, and is copied again when the seed's runtime was rebuilt
//! since, or when it grew past [`SIZE_LIMIT`].

use anyhow::{Context, Result};
use std::fs::File;
use std::path::{Path, PathBuf};

/// A folder that grew past this many bytes is started again from the seed.
pub const SIZE_LIMIT: u64 = 4 << 30;

/// The pool inside a seed folder.
const POOL: &str = "kernels";
/// Which seed build a folder was copied from (see `seed_identity`).
const SEEDED_FROM: &str = "seeded-from";
const LOCK: &str = "lock";

/// A build folder this kernel holds until it is dropped.
pub struct BuildFolder {
    pub path: PathBuf,
    _lock: File,
}

/// Takes the first free folder of the pool of `seed`, making a new one when all are held.
pub fn take(seed: &Path) -> Result<BuildFolder> {
    let pool = seed.join(POOL);
    std::fs::create_dir_all(&pool)
        .with_context(|| format!("creating the build folder pool {}", pool.display()))?;
    for n in 0.. {
        let slot = pool.join(n.to_string());
        std::fs::create_dir_all(&slot)
            .with_context(|| format!("creating the build folder {}", slot.display()))?;
        let lock = File::create(slot.join(LOCK))
            .with_context(|| format!("creating the lock of {}", slot.display()))?;
        match lock.try_lock() {
            Ok(()) => {
                let path = slot.join("build");
                prepare(seed, &slot, &path)?;
                return Ok(BuildFolder { path, _lock: lock });
            }
            Err(std::fs::TryLockError::WouldBlock) => continue,
            Err(std::fs::TryLockError::Error(error)) => {
                return Err(error).with_context(|| format!("locking {}", slot.display()))
            }
        }
    }
    unreachable!("the pool has a free folder")
}

/// Makes `build` (in `slot`) ready: a fresh copy of the seed's build when it has none, when
/// the seed changed, or when it grew too big; evcxr's per-build copies of old cells removed;
/// the seed's record of the runtime's libraries, as it is now (`runtime_stand_ins`).
fn prepare(seed: &Path, slot: &Path, build: &Path) -> Result<()> {
    let seed_build = seed.join("build");
    let wanted = seed_identity(seed);
    let recorded = std::fs::read_to_string(slot.join(SEEDED_FROM)).ok();
    let fresh = build.is_dir() && recorded == wanted && tidy(build) <= SIZE_LIMIT;
    if !fresh {
        if build.exists() {
            std::fs::remove_dir_all(build)
                .with_context(|| format!("clearing the build folder {}", build.display()))?;
        }
        if seed_build.is_dir() {
            super::folder_copy::copy_build_folder(&seed_build, build)?;
            // The seed's own cell copies.
            tidy(build);
        }
        std::fs::create_dir_all(build)
            .with_context(|| format!("creating the build folder {}", build.display()))?;
        if let Some(identity) = &wanted {
            std::fs::write(slot.join(SEEDED_FROM), identity)
                .with_context(|| format!("writing {}", slot.join(SEEDED_FROM).display()))?;
        }
    }
    super::runtime_stand_ins::copy_record(&seed_build, build)
}

/// The seed build a folder comes from: when the runtime's libraries in it were last written.
/// Installing again without a change to the runtime leaves them, and the folders, as they are.
fn seed_identity(seed: &Path) -> Option<String> {
    let newest = walkdir::WalkDir::new(seed.join("build").join("target"))
        .into_iter()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("libcellar"))
        .filter_map(|entry| entry.metadata().ok()?.modified().ok())
        .max()?;
    let since = newest.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(since.as_nanos().to_string())
}

/// Removes evcxr's per-build copies of cells (`libcode_<n>.so`: an earlier kernel's are of no
/// use) and returns the folder's size as found, in one walk.
fn tidy(build: &Path) -> u64 {
    let mut size = 0;
    for entry in walkdir::WalkDir::new(build).into_iter().flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        size += meta.len();
        if entry.file_name().to_string_lossy().starts_with("libcode_") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_with_build() -> tempfile::TempDir {
        let seed = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(seed.path().join("build/target")).unwrap();
        std::fs::write(seed.path().join("build/target/libcellar-1.so"), b"built").unwrap();
        seed
    }

    #[test]
    fn a_held_folder_is_not_given_to_a_second_kernel_and_is_reused_once_freed() {
        let seed = seed_with_build();
        let first = take(seed.path()).unwrap();
        let second = take(seed.path()).unwrap();
        assert_ne!(first.path, second.path);
        assert!(
            first.path.join("target/libcellar-1.so").is_file(),
            "copied from the seed"
        );
        std::fs::write(first.path.join("target/dep.so"), b"a :dep crate").unwrap();
        std::fs::write(first.path.join("target/libcode_3.so"), b"a cell").unwrap();
        let first_path = first.path.clone();
        drop(first);
        // Another test's child process may hold the lock for the instant between its fork and
        // exec (the descriptor is closed on exec): ask again until that has passed.
        let again = (0..100)
            .map(|_| take(seed.path()).unwrap())
            .find(|folder| {
                folder.path == first_path || {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    false
                }
            })
            .expect("the freed folder is taken again");
        assert!(
            again.path.join("target/dep.so").is_file(),
            "kept between kernels"
        );
        assert!(
            !again.path.join("target/libcode_3.so").exists(),
            "old cells removed"
        );
    }

    #[test]
    fn a_rebuilt_seed_is_copied_again() {
        let seed = seed_with_build();
        let path = take(seed.path()).unwrap().path;
        std::fs::write(path.join("target/dep.so"), b"built against the old seed").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(seed.path().join("build/target/libcellar-1.so"), b"rebuilt").unwrap();
        let again = take(seed.path()).unwrap();
        assert!(!again.path.join("target/dep.so").exists());
        assert_eq!(
            std::fs::read(again.path.join("target/libcellar-1.so")).unwrap(),
            b"rebuilt"
        );
    }
}
