//! Copying a folder, linking the files no writer changes in place.
//!
//! A kernel's new build folder is a copy of the seed's: about 190 MB, most of it the runtime's
//! and its dependencies' libraries and the runtime's incremental cache. Copying them took a
//! quarter of a second of a kernel's first start, on one core while the other waited. The
//! libraries rustc writes (`.rlib`, `.rmeta`, `.so` in a `deps` folder) are always written to a
//! new file and renamed over the old one (rustc for archives and metadata, the linkers for
//! shared libraries), and rustc's incremental sessions are never changed once written (rustc
//! itself hard-links them from one session to the next). So those are hard links to the seed's
//! files: a rebuild in one kernel replaces its own link and leaves the seed as it was. The rest
//! (cargo's fingerprints, dep-info files, build script outputs, lock files) is written in
//! place, so it is copied. Modification times are kept, so cargo sees the copy as up to date.
//! The copy of the standard library's source that rust-analyzer reads is made here too, every
//! file copied.

use anyhow::{Context, Result};
use std::fs::{File, FileTimes};
use std::path::Path;

/// How one file reaches the copy.
#[derive(Debug, PartialEq, Eq)]
pub enum Transfer {
    /// A hard link to the seed's file (a copy when the two folders are on different devices).
    Link,
    Copy,
}

/// What `relative` (a path inside a build folder) needs: see the module's opening.
fn build_folder_transfer(relative: &Path) -> Transfer {
    let in_folder = |name: &str| relative.components().any(|c| c.as_os_str() == name);
    let library = matches!(
        relative.extension().and_then(|e| e.to_str()),
        Some("rlib" | "rmeta" | "so")
    );
    let in_deps = relative.parent().and_then(Path::file_name) == Some("deps".as_ref());
    if in_folder("incremental") || (library && in_deps) {
        Transfer::Link
    } else {
        Transfer::Copy
    }
}

/// Copies the build folder `from` (the seed's) into `to` (made if missing).
pub fn copy_build_folder(from: &Path, to: &Path) -> Result<()> {
    copy_folder(from, to, "the seed build", build_folder_transfer)
}

/// Copies the folder `from` (named `what` in errors) into `to` (made if missing), each file as
/// `transfer` says for its path inside `from`.
pub fn copy_folder(
    from: &Path,
    to: &Path,
    what: &str,
    transfer: impl Fn(&Path) -> Transfer,
) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in walkdir::WalkDir::new(from).min_depth(1) {
        let entry = entry.with_context(|| format!("reading {what} {}", from.display()))?;
        let relative = entry
            .path()
            .strip_prefix(from)
            .expect("walked inside `from`");
        let target = to.join(relative);
        let kind = entry.file_type();
        let done = if kind.is_dir() {
            std::fs::create_dir_all(&target)
        } else if kind.is_symlink() {
            std::fs::read_link(entry.path())
                .and_then(|points_to| std::os::unix::fs::symlink(points_to, &target))
        } else if !kind.is_file() {
            // A socket or a pipe some tool left: nothing a build reads, and copying one blocks.
            continue;
        } else if transfer(relative) == Transfer::Link {
            std::fs::hard_link(entry.path(), &target).or_else(|_| copy_file(entry.path(), &target))
        } else {
            copy_file(entry.path(), &target)
        };
        done.with_context(|| {
            format!("copying {} to {}", entry.path().display(), target.display())
        })?;
    }
    Ok(())
}

/// A copy with the same permissions and modification time. The times are set through a
/// read-only handle: the copy of a read-only file cannot be opened for writing.
fn copy_file(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::copy(from, to)?;
    let meta = std::fs::metadata(from)?;
    let times = FileTimes::new()
        .set_modified(meta.modified()?)
        .set_accessed(meta.accessed()?);
    File::open(to)?.set_times(times)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn libraries_and_incremental_sessions_are_linked_the_rest_copied() {
        for linked in [
            "target/x86_64-unknown-linux-gnu/debug/deps/libserde-1a2b.rlib",
            "target/x86_64-unknown-linux-gnu/debug/deps/libserde-1a2b.rmeta",
            "target/debug/deps/libserde_derive-3c4d.so",
            "target/x86_64-unknown-linux-gnu/debug/incremental/cellar-1/s-2/query-cache.bin",
        ] {
            assert_eq!(
                build_folder_transfer(Path::new(linked)),
                Transfer::Link,
                "{linked}"
            );
        }
        for copied in [
            "Cargo.toml",
            "src/lib.rs",
            "target/.rustc_info.json",
            "target/x86_64-unknown-linux-gnu/debug/deps/serde-1a2b.d",
            "target/x86_64-unknown-linux-gnu/debug/.fingerprint/serde-1a2b/lib-serde",
            "target/x86_64-unknown-linux-gnu/debug/libctx.so",
            "target/debug/build/serde-5e6f/out/private.rs",
            "target/x86_64-unknown-linux-gnu/debug/.cargo-lock",
        ] {
            assert_eq!(
                build_folder_transfer(Path::new(copied)),
                Transfer::Copy,
                "{copied}"
            );
        }
    }

    #[test]
    fn the_copy_shares_libraries_but_not_what_cargo_rewrites() {
        let seed = tempfile::tempdir().unwrap();
        let deps = seed.path().join("target/debug/deps");
        let fingerprint = seed.path().join("target/debug/.fingerprint/serde-1");
        std::fs::create_dir_all(&deps).unwrap();
        std::fs::create_dir_all(&fingerprint).unwrap();
        std::fs::write(deps.join("libserde-1.rlib"), b"archive").unwrap();
        std::fs::write(fingerprint.join("lib-serde"), b"hash").unwrap();
        let read_only = seed.path().join("target/debug/build-output.rs");
        std::fs::write(&read_only, b"// generated").unwrap();
        std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o444)).unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        File::options()
            .write(true)
            .open(fingerprint.join("lib-serde"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        std::os::unix::fs::symlink("lib-serde", fingerprint.join("alias")).unwrap();

        let copy = tempfile::tempdir().unwrap();
        let to = copy.path().join("build");
        copy_build_folder(seed.path(), &to).unwrap();

        let library = to.join("target/debug/deps/libserde-1.rlib");
        let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
        assert_eq!(ino(&library), ino(&deps.join("libserde-1.rlib")));
        let copied = to.join("target/debug/.fingerprint/serde-1/lib-serde");
        assert_ne!(ino(&copied), ino(&fingerprint.join("lib-serde")));
        assert_eq!(std::fs::metadata(&copied).unwrap().modified().unwrap(), old);
        std::fs::write(&copied, b"rewritten by cargo").unwrap();
        assert_eq!(
            std::fs::read(fingerprint.join("lib-serde")).unwrap(),
            b"hash"
        );
        let read_only_copy = std::fs::metadata(to.join("target/debug/build-output.rs")).unwrap();
        assert_eq!(read_only_copy.permissions().mode() & 0o777, 0o444);
        assert_eq!(
            std::fs::read_link(to.join("target/debug/.fingerprint/serde-1/alias")).unwrap(),
            Path::new("lib-serde")
        );
    }

    #[test]
    fn a_socket_in_the_seed_is_left_behind() {
        let seed = tempfile::tempdir().unwrap();
        std::fs::write(seed.path().join("Cargo.toml"), b"[package]").unwrap();
        let _listener =
            std::os::unix::net::UnixListener::bind(seed.path().join("tool.sock")).unwrap();
        let copy = tempfile::tempdir().unwrap();
        copy_build_folder(seed.path(), copy.path()).unwrap();
        assert!(copy.path().join("Cargo.toml").is_file());
        assert!(!copy.path().join("tool.sock").exists());
    }

    #[test]
    fn a_seed_that_cannot_be_read_is_named() {
        let copy = tempfile::tempdir().unwrap();
        let missing = copy.path().join("no-seed");
        let error = copy_build_folder(&missing, &copy.path().join("build")).unwrap_err();
        assert!(
            format!("{error:#}").contains("reading the seed build"),
            "{error:#}"
        );
    }
}
