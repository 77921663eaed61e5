//! `:dep` builds in the notebook: which crate is compiling, and how many of how many.
//!
//! evcxr writes cargo's "Compiling …" lines to the kernel's own stderr, the server log, so a
//! notebook showed nothing while a `:dep` crate built. cargo runs the kernel binary as the
//! rustc wrapper for every crate (see `rustc_wrapper`): the wrapper names the crate it starts
//! (`wrapper_reports`), and the kernel shows a line under the running cell. The count of
//! crates left to build is read once per cell, at its first crate: the packages of the build
//! folder's `Cargo.lock` that have no library built yet.

use super::outputs::OutputSink;
use super::rustc_wrapper::CELL_CRATE;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Shows each crate of the current cell's build, counted.
pub struct BuildProgress {
    counter: CrateCounter,
    sink: Arc<OutputSink>,
}

/// Counts the crates of the current cell's build in a build folder.
struct CrateCounter {
    counts: Mutex<Option<Counts>>,
    build: PathBuf,
}

struct Counts {
    done: usize,
    total: usize,
}

impl BuildProgress {
    /// Progress of the builds in the `build` folder; lines go to `sink`.
    pub fn new(build: PathBuf, sink: Arc<OutputSink>) -> BuildProgress {
        BuildProgress {
            counter: CrateCounter {
                counts: Mutex::new(None),
                build,
            },
            sink,
        }
    }

    /// Shows that `crate_name` starts compiling.
    pub fn compiling(&self, crate_name: &str) {
        let line = self.counter.line_for(crate_name);
        self.sink
            .send("stream", json!({ "name": "stderr", "text": line }));
    }

    /// A cell begins: its build is counted afresh.
    pub fn begin_cell(&self) {
        self.counter.reset();
    }
}

impl CrateCounter {
    fn reset(&self) {
        *self.counts.lock().unwrap() = None;
    }

    fn line_for(&self, crate_name: &str) -> String {
        let mut counts = self.counts.lock().unwrap();
        let counts = counts.get_or_insert_with(|| Counts {
            done: 0,
            total: left_to_build(&self.build),
        });
        counts.done += 1;
        counts.total = counts.total.max(counts.done);
        format!(
            "Compiling {crate_name} ({} of {})\n",
            counts.done, counts.total
        )
    }
}

/// Packages of the lock file (by crate name) with no library in the build's target folder.
fn left_to_build(build: &Path) -> usize {
    let Ok(lock) = std::fs::read_to_string(build.join("Cargo.lock")) else {
        return 0;
    };
    let built = built_crates(&build.join("target"));
    lock_packages(&lock)
        .into_iter()
        .filter(|name| name != CELL_CRATE && !built.contains(name))
        .count()
}

/// Crate names of the `name = "…"` entries of a lock file's packages (`-` becomes `_`).
fn lock_packages(lock: &str) -> BTreeSet<String> {
    lock.lines()
        .filter_map(|line| line.strip_prefix("name = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .map(|name| name.replace('-', "_"))
        .collect()
}

/// Crate names with a library (`lib<name>-<hash>.rlib|.so|.rmeta`) under `target`.
fn built_crates(target: &Path) -> BTreeSet<String> {
    walkdir::WalkDir::new(target)
        .max_depth(4)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_str()?.strip_prefix("lib")?.to_string();
            let (stem, _) = name.rsplit_once('-')?;
            Some(stem.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crates_left_are_the_locked_packages_without_a_library() {
        let build = tempfile::tempdir().unwrap();
        std::fs::write(
            build.path().join("Cargo.lock"),
            "[[package]]\nname = \"ctx\"\n\n[[package]]\nname = \"rand\"\nversion = \"0.8.5\"\n\n\
             [[package]]\nname = \"rand-core\"\n\n[[package]]\nname = \"serde\"\n",
        )
        .unwrap();
        let deps = build
            .path()
            .join("target/x86_64-unknown-linux-gnu/debug/deps");
        std::fs::create_dir_all(&deps).unwrap();
        std::fs::write(deps.join("libserde-0123abcd.rlib"), b"").unwrap();
        assert_eq!(left_to_build(build.path()), 2, "rand and rand_core");
    }

    #[test]
    fn each_crate_is_counted_against_what_was_left() {
        let build = tempfile::tempdir().unwrap();
        std::fs::write(
            build.path().join("Cargo.lock"),
            "name = \"a\"\nname = \"b\"\n",
        )
        .unwrap();
        let progress = CrateCounter {
            counts: Mutex::new(None),
            build: build.path().to_path_buf(),
        };
        assert_eq!(progress.line_for("a"), "Compiling a (1 of 2)\n");
        assert_eq!(progress.line_for("b"), "Compiling b (2 of 2)\n");
        assert_eq!(
            progress.line_for("c"),
            "Compiling c (3 of 3)\n",
            "never less than done"
        );
        progress.reset();
        assert_eq!(progress.line_for("a"), "Compiling a (1 of 2)\n");
    }
}
