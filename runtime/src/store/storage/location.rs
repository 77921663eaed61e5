//! Where entries are kept on disk, and how much room they may take.
//!
//! - The kernel's store ([`STORE_DIR_ENV`], set by the kernel for its cell process): a copy of
//!   every `cache_data` entry, so a cell process that dies (abort, segfault, a kill after an
//!   interrupt) loses none. It lives and dies with the kernel.
//! - The cache folder ([`CACHE_DIR_ENV`], else `.cellar-cache` in the working directory, which
//!   for a notebook is the notebook's folder): `persist = "disk"` entries, kept across kernel
//!   restarts and separate runs, shareable by several kernels at once.
//!
//! Each folder is trimmed to [`LIMIT_ENV`] bytes (default 4 GiB), least recently used first.

use std::path::PathBuf;
use std::sync::OnceLock;

pub use crate::protocol::STORE_DIR_ENV;
/// The folder of `persist = "disk"` entries.
pub const CACHE_DIR_ENV: &str = "CELLAR_CACHE_DIR";
/// The most bytes each folder may hold: a number of bytes, or with a unit (`500MB`, `2 GiB`).
pub const LIMIT_ENV: &str = "CELLAR_CACHE_LIMIT";

const DEFAULT_LIMIT: u64 = 4 << 30;

/// The kernel's store folder, if this process runs a kernel's cells.
pub(crate) fn store_dir() -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        std::env::var_os(STORE_DIR_ENV)
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
    })
    .clone()
}

/// Where the kernel's copies of entries live (`<store>/entries`).
pub(crate) fn crash_root() -> Option<PathBuf> {
    store_dir().map(|dir| dir.join("entries"))
}

/// Where `persist = "disk"` entries live, resolved once (an absolute path: a cell that changes
/// the working directory does not move the cache).
pub(crate) fn persist_root() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::var_os(CACHE_DIR_ENV)
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".cellar-cache"));
        std::path::absolute(&dir).unwrap_or(dir)
    })
    .clone()
}

/// The size limit of each folder.
pub(crate) fn limit() -> u64 {
    static LIMIT: OnceLock<u64> = OnceLock::new();
    *LIMIT.get_or_init(|| match std::env::var(LIMIT_ENV) {
        Ok(text) => parse_limit(&text).unwrap_or_else(|| {
            eprintln!(
                "cellar: {LIMIT_ENV}={text:?} is not a size such as 500MB or 2GiB; using 4 GiB"
            );
            DEFAULT_LIMIT
        }),
        Err(_) => DEFAULT_LIMIT,
    })
}

fn parse_limit(text: &str) -> Option<u64> {
    text.trim()
        .parse::<bytesize::ByteSize>()
        .ok()
        .map(|size| size.as_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_with_or_without_units() {
        assert_eq!(parse_limit("1000"), Some(1000));
        assert_eq!(parse_limit("2 GiB"), Some(2 << 30));
        assert_eq!(parse_limit("500MB"), Some(500_000_000));
        assert_eq!(parse_limit("lots"), None);
    }
}
