//! Starting evcxr, with its first build made once.
//!
//! `EvalContext::new` evaluates `42` to check that everything works, and builds it like any
//! final expression: first with a display attempt that fails, then again through its `Debug`
//! fallback. While it starts, the kernel's work file says so (`cell_crate_flags`), and the
//! rustc wrapper builds that crate once, at level 0, without the attempt. Once evcxr is up,
//! the file says "statements" again, as for any build before a cell says what it does. Both
//! writes are here, around the start, so that no caller starts evcxr with one of them missing.

use super::cell_crate_flags;
use anyhow::{anyhow, Context, Result};
use std::path::Path;

/// Starts evcxr (its first build included), telling the rustc wrapper through `work_file`.
pub fn start(work_file: &Path) -> Result<(evcxr::CommandContext, evcxr::EvalContextOutputs)> {
    cell_crate_flags::choose_evcxr_start(work_file).with_context(|| {
        format!(
            "writing how evcxr's first build is made to {}",
            work_file.display()
        )
    })?;
    let started = evcxr::CommandContext::new().map_err(|e| anyhow!("starting evcxr: {e}"))?;
    cell_crate_flags::evcxr_started(work_file).with_context(|| {
        format!(
            "writing how the builds after evcxr's start are made to {}",
            work_file.display()
        )
    })?;
    Ok(started)
}
