//! Adding the `cellar` runtime to evcxr when it is first needed, not at start.
//!
//! evcxr's start already waits for rust-analyzer to load the cell crate's workspace (about 4 s
//! on two cores). Adding `cellar` and `serde` as dependencies of every cell (`:load_config`,
//! from the kernel's `evcxr.toml`) makes rust-analyzer load it again and the next build link
//! them: about 5 s more. A notebook's first result need not wait for that, so the kernel adds
//! them just before the first cell that names them. (Not when idle: the engine cannot stop a
//! load for a completion request, and JupyterLab would give up on it.)
//!
//! The runtime's crates are in cargo's cache since the seed was built, so they are added with
//! cargo offline (`offline_first`): resolving them then asks no registry, which took about 2 s
//! of the 5. When that fails (another user's cargo cache, say) they are added again with the
//! user's setting.
//!
//! A kernel adds the runtime's stand-ins (`runtime_stand_ins`), and the whole runtime once the
//! notebook adds crates of its own with `:dep`: before its first one, or, when the runtime comes
//! after, right after the stand-ins.

use super::runtime_stand_ins::RuntimeDependencies;

/// Names in a cell that need the runtime or `serde`.
const NEEDS_RUNTIME: [&str; 8] = [
    "cellar",
    "serde",
    "cache_data",
    "cache_resource",
    "memo",
    "singleton",
    "Serialize",
    "Deserialize",
];

/// Whether the runtime is among evcxr's dependencies yet, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeLoad {
    Pending,
    /// Added: as `evcxr.toml` names it, or whole once the notebook added crates of its own.
    Loaded(RuntimeDependencies),
}

/// Whether `cell` names the runtime, its attributes, or `serde`.
pub fn needed_by(cell: &str) -> bool {
    cell.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|word| NEEDS_RUNTIME.contains(&word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_name_the_runtime_or_serde_need_it() {
        assert!(needed_by("use cellar::cache_data;"));
        assert!(needed_by("#[cache_data]\nfn f() -> u8 { 1 }"));
        assert!(needed_by("#[derive(serde::Serialize)] struct A;"));
        assert!(!needed_by("1 + 1"));
        assert!(!needed_by("let cellars = 3; cellars"));
    }
}
