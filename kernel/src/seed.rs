//! The seed: the runtime compiled ahead of time, so a kernel's first cell does not wait for it.
//!
//! `cellar-kernel install` builds it with evcxr in the seed folder (`cellar` and its
//! dependencies as the shared libraries cells link), and leaves a stamp saying which runtime and
//! which rustc it was built for; `cellar-kernel doctor` compares the stamp with what a kernel
//! would use now.

use crate::engine::workspace::Workspace;
use crate::runtime_source::{RuntimePaths, RuntimeSource};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, Instant};

const STAMP_FILE: &str = "cellar-seed.json";

/// What a seed was built for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// `embedded <version>-<hash>` or `checkout <path>`.
    pub runtime: String,
    /// `rustc --version` at build time.
    pub rustc: String,
}

impl Stamp {
    /// What a seed built now, for this runtime and this toolchain, would be stamped with.
    pub fn expected(runtime: &RuntimePaths) -> Stamp {
        Stamp {
            runtime: runtime_label(&runtime.source),
            rustc: crate::toolchain::rustc_version_line().unwrap_or_default(),
        }
    }

    pub fn read(seed: &Path) -> Option<Stamp> {
        let text = std::fs::read_to_string(seed.join(STAMP_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn write(&self, seed: &Path) -> Result<()> {
        let path = seed.join(STAMP_FILE);
        std::fs::write(&path, serde_json::to_string_pretty(self)?)
            .with_context(|| format!("writing the seed stamp {}", path.display()))
    }
}

fn runtime_label(source: &RuntimeSource) -> String {
    match source {
        RuntimeSource::Embedded => format!("embedded {}", crate::runtime_source::runtime_key()),
        RuntimeSource::Checkout(dir) => format!("checkout {}", dir.display()),
    }
}

/// Compiles `cellar` (and `serde`) as evcxr will link them, in the seed folder; returns the time
/// it took.
pub fn build(runtime: &RuntimePaths) -> Result<Duration> {
    let started = Instant::now();
    let seed = Workspace::seed(runtime)?;
    // A stamp from an earlier build must not outlive a build that fails, nor the record of the
    // libraries it built (this build's first cell records them again).
    let _ = std::fs::remove_file(seed.dir.join(STAMP_FILE));
    crate::engine::runtime_stand_ins::forget_seed_libraries(&runtime.seed.join("build"))
        .context("removing the record of the seed's earlier libraries")?;
    seed.export_env();
    // Before evcxr's first cell: every cell of a process must use the same store.
    crate::engine::variable_store::library::build(&seed.dir)?;
    let (mut context, outputs) = crate::engine::evcxr_start::start(&seed.cell_work_file())?;
    for stream in [outputs.stdout, outputs.stderr] {
        std::thread::spawn(move || stream.iter().for_each(|line| eprintln!("{line}")));
    }
    context
        .execute(":load_config")
        .map_err(|e| anyhow::anyhow!("building the runtime: {e}"))?;
    context
        .execute("cellar::__private::release_all();")
        .map_err(|e| anyhow::anyhow!("checking the runtime: {e}"))?;
    crate::engine::checked_cells::build_library(&seed.dir)?;
    Stamp::expected(runtime).write(&seed.dir)?;
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back_and_a_missing_one_is_none() {
        let seed = tempfile::tempdir().unwrap();
        assert_eq!(Stamp::read(seed.path()), None);
        let stamp = Stamp {
            runtime: "embedded 0.1.0-abcdefabcdef".into(),
            rustc: "rustc 1.95.0 (x)".into(),
        };
        stamp.write(seed.path()).unwrap();
        assert_eq!(Stamp::read(seed.path()), Some(stamp));
    }

    #[test]
    fn labels_tell_the_embedded_runtime_from_a_checkout() {
        assert!(runtime_label(&RuntimeSource::Embedded).starts_with("embedded 0."));
        assert_eq!(
            runtime_label(&RuntimeSource::Checkout("/src/runtime".into())),
            "checkout /src/runtime"
        );
    }
}
