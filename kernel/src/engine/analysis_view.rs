//! What evcxr's rust-analyzer sees of the runtime: `cellar` itself, not serde or the other
//! crates the runtime is built from.
//!
//! A kernel's cells usually depend on the runtime's stand-ins, which have no dependencies at
//! all (`runtime_stand_ins`); this is for the whole runtime, the seed's and that of a notebook
//! that adds crates of its own.
//!
//! rust-analyzer (in the kernel's process) loads every crate of the cell crate's dependency
//! graph when a cell first adds the runtime, and a cell's first `let` collects the trait impls
//! of all of them. What cells need from the runtime to have their variables typed is its own
//! API (`Data<T>`, what `#[cache_data]` expands to): the runtime's other dependencies (blake3,
//! postcard, serde_json, lru, its attribute macros…) only cost loading: about 0.4 s when the
//! runtime is added and 0.3 s at the first `let` after it (medians of 4 kernels each, 2
//! cores). serde cost the most: its trait impls, thousands written by macros, took about 1.6 s
//! of that first `let`. So these crates are `[target.'cfg(not(cellar_analysis))'.dependencies]`
//! of the runtime, and so is serde of `cellar-serde`, the re-export of serde that cells name as
//! `serde`. The cfg is set where only rust-analyzer's cargo runs see it: in `RUSTFLAGS` of the
//! kernel's process.
//! rust-analyzer asks cargo for the graph of the cells' platform (`cargo metadata
//! --filter-platform`), and cargo decides target cfgs with `RUSTFLAGS`; evcxr's own builds set
//! `RUSTFLAGS` themselves, so they build the runtime whole. The process that runs cells takes
//! the cfg out again (`take_out`), so what a cell starts sees the user's `RUSTFLAGS`.

use std::ffi::OsString;

/// The cfg, as the runtime's `Cargo.toml` names it.
const CFG: &str = "--cfg cellar_analysis";
const RUSTFLAGS: &str = "RUSTFLAGS";

/// Adds the cfg to the kernel's `RUSTFLAGS` (after the user's own flags, if any).
/// Call before any thread starts: it sets a process environment variable.
pub fn set_for_analysis() {
    let flags = with_cfg(std::env::var_os(RUSTFLAGS));
    std::env::set_var(RUSTFLAGS, flags);
}

/// Gives the process back the user's `RUSTFLAGS` (none, if they had none): for the process
/// that runs cells, which inherits the kernel's. Call before any thread starts.
pub fn take_out() {
    if let Some(flags) = std::env::var_os(RUSTFLAGS) {
        match without_cfg(&flags) {
            Some(user) if user.is_empty() => std::env::remove_var(RUSTFLAGS),
            Some(user) => std::env::set_var(RUSTFLAGS, user),
            None => {}
        }
    }
}

/// `user` with the cfg after it, once.
fn with_cfg(user: Option<OsString>) -> OsString {
    match user.filter(|flags| !flags.is_empty()) {
        Some(flags) if without_cfg(&flags).is_some() => flags,
        Some(mut flags) => {
            flags.push(" ");
            flags.push(CFG);
            flags
        }
        None => CFG.into(),
    }
}

/// The flags before the cfg `with_cfg` added; `None` when it is not there.
fn without_cfg(flags: &OsString) -> Option<OsString> {
    let text = flags.to_str()?;
    let user = text.strip_suffix(CFG)?;
    Some(user.strip_suffix(' ').unwrap_or(user).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cfg_follows_the_users_flags_and_comes_out_again() {
        let user = OsString::from("-C target-cpu=native");
        let set = with_cfg(Some(user.clone()));
        assert_eq!(set, "-C target-cpu=native --cfg cellar_analysis");
        assert_eq!(without_cfg(&set), Some(user));
    }

    #[test]
    fn without_user_flags_only_the_cfg_is_set_and_nothing_is_left() {
        for none in [None, Some(OsString::new())] {
            let set = with_cfg(none);
            assert_eq!(set, "--cfg cellar_analysis");
            assert_eq!(without_cfg(&set), Some(OsString::new()));
        }
    }

    #[test]
    fn the_cfg_is_added_once() {
        let once = with_cfg(Some("-C target-cpu=native".into()));
        assert_eq!(with_cfg(Some(once.clone())), once);
    }

    #[test]
    fn flags_without_the_cfg_are_left_alone() {
        assert_eq!(without_cfg(&OsString::from("-C opt-level=3")), None);
    }
}
