//! The key of a cell build: blake3 over what the library is made from.
//!
//! - the canonical source, as evcxr wrote it (`canonical`), and what the build leaves out of it
//!   (`lighter_crates`): a hit is not rewritten;
//! - rustc's arguments (opt-level, `-C metadata`, the cfgs…), with the build folder's path
//!   left out so that every folder of the pool shares entries;
//! - each library the crate links (`--extern`, and the shared library evcxr links instead):
//!   its path, size and modification time. A rebuilt runtime or `:dep` crate is a new file;
//!   copies of the seed keep the times, so they still match;
//! - the toolchain: rustc's executable and the standard library evcxr links (its file name
//!   carries the release's hash).

use super::canonical::canonical;
use super::Build;
use crate::engine::cell_crate_linking;
use crate::engine::lighter_crates::LeaveOut;
use crate::engine::rustc_wrapper::{core_library, option_values};
use std::path::{Path, PathBuf};

/// Changes when what an entry holds, or how the key is made, changes.
const FORMAT: &[u8] = b"cellar compiled cell 2";

/// The key, as hex; `None` when the build cannot be keyed (unparsable source, paths that are
/// not text): it is then compiled and not kept.
pub fn key(build: &Build<'_>, source: &str, leave_out: Option<&LeaveOut>) -> Option<String> {
    let mut hasher = blake3::Hasher::new();
    let mut field = |bytes: &[u8]| {
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    field(FORMAT);
    field(canonical(source)?.as_bytes());
    field(
        leave_out
            .map(LeaveOut::describe)
            .unwrap_or_default()
            .as_bytes(),
    );
    for arg in build.abstract_args()? {
        field(arg.as_bytes());
    }
    let toolchain = [PathBuf::from(&build.args[0]), core_library()?];
    for path in linked_libraries(build).iter().chain(&toolchain) {
        field(build.abstract_paths(path.to_str()?).as_bytes());
        field(&stamp(&build.folder.join(path)));
    }
    Some(hasher.finalize().to_hex().to_string())
}

/// The libraries named by `--extern name=path`, each with the shared library beside it.
fn linked_libraries(build: &Build<'_>) -> Vec<PathBuf> {
    option_values(build.args, "--extern")
        .filter_map(|value| {
            value
                .to_str()?
                .split_once('=')
                .map(|(_, p)| PathBuf::from(p))
        })
        .flat_map(|library| [cell_crate_linking::shared_library_beside(&library), library])
        .collect()
}

/// Size and modification time, or a mark for a file that is not there.
fn stamp(path: &Path) -> Vec<u8> {
    let Ok(metadata) = std::fs::metadata(path) else {
        return b"missing".to_vec();
    };
    let modified = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_nanos());
    [
        metadata.len().to_le_bytes().as_slice(),
        &modified.to_le_bytes(),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn args(folder: &Path, extern_path: &Path) -> Vec<OsString> {
        [
            "rustc".to_string(),
            "--crate-name".into(),
            "ctx".into(),
            "src/lib.rs".into(),
            "--out-dir".into(),
            format!("{}/target/debug/deps", folder.display()),
            "--extern".into(),
            format!("serde={}", extern_path.display()),
        ]
        .into_iter()
        .map(OsString::from)
        .collect()
    }

    fn build<'a>(folder: &Path, args: &'a [OsString]) -> Build<'a> {
        Build {
            args,
            folder: folder.to_path_buf(),
            source: "src/lib.rs".into(),
            out_dir: folder.join("target/debug/deps"),
        }
    }

    /// Two build folders with the same library (same size and time) in each.
    fn two_folders() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let when = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let mut folders = Vec::new();
        for name in ["0", "1"] {
            let deps = dir.path().join(name).join("target/debug/deps");
            std::fs::create_dir_all(&deps).unwrap();
            let library = deps.join("libserde.rlib");
            std::fs::write(&library, b"library").unwrap();
            std::fs::File::options()
                .write(true)
                .open(&library)
                .unwrap()
                .set_modified(when)
                .unwrap();
            folders.push(dir.path().join(name));
        }
        let second = folders.pop().unwrap();
        (dir, folders.pop().unwrap(), second)
    }

    fn key_in(folder: &Path, source: &str) -> Option<String> {
        key_leaving_out(folder, source, None)
    }

    fn key_leaving_out(
        folder: &Path,
        source: &str,
        leave_out: Option<&LeaveOut>,
    ) -> Option<String> {
        let library = folder.join("target/debug/deps/libserde.rlib");
        let args = args(folder, &library);
        key(&build(folder, &args), source, leave_out)
    }

    #[test]
    fn folders_of_the_pool_share_keys() {
        std::env::set_var("EVCXR_CORE_EXTERN", "core=/toolchain/libstd-abc.so");
        let (_dir, first, second) = two_folders();
        let source = "struct A;\nstruct B;";
        let a = key_in(&first, source).unwrap();
        assert_eq!(Some(a.clone()), key_in(&second, "struct B;\nstruct A;"));
        assert_ne!(Some(a), key_in(&second, "struct A;"));
    }

    #[test]
    fn a_rebuilt_library_changes_the_key() {
        std::env::set_var("EVCXR_CORE_EXTERN", "core=/toolchain/libstd-abc.so");
        let (_dir, first, _) = two_folders();
        let before = key_in(&first, "struct A;").unwrap();
        std::fs::write(first.join("target/debug/deps/libserde.rlib"), b"rebuilt").unwrap();
        assert_ne!(Some(before), key_in(&first, "struct A;"));
    }

    #[test]
    fn what_the_build_leaves_out_is_in_the_key() {
        std::env::set_var("EVCXR_CORE_EXTERN", "core=/toolchain/libstd-abc.so");
        let (_dir, first, _) = two_folders();
        let names = |list: &[&str]| list.iter().map(|name| name.to_string()).collect();
        let keys: std::collections::BTreeSet<Option<String>> = [
            None,
            Some(LeaveOut::Unreached(None)),
            Some(LeaveOut::Unreached(Some(names(&["A"])))),
            Some(LeaveOut::UnchangedBodies(names(&["A"]))),
        ]
        .iter()
        .map(|leave_out| key_leaving_out(&first, "struct A;", leave_out.as_ref()))
        .collect();
        assert_eq!(keys.len(), 4);
    }
}
