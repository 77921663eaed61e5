//! `cache_data` entries outside memory, so that they outlive the process that computed them.
//!
//! Memory ([`super::cache::FnCache`]) stays the first place a call looks, and holds live values;
//! behind it, entries are bytes ([`entry`]: checked with blake3, signed with `CELLAR_CACHE_KEY`)
//! kept by tiers that all implement [`Storage`], layered by [`Tiered`] the way Streamlit's
//! cache storages and sccache's multi-level cache are: a read goes nearest first and copies a
//! far hit into the nearer tiers (backfill), a write goes to every tier.
//!
//! - [`folder`]: a local folder (the kernel's store, or the cache folder);
//! - [`remote`]: the remote tier, S3-compatible object storage shared across machines, reached
//!   through the kernel;
//! - [`tiered`]: the tiers in order, with one warning per failing tier;
//! - [`fn_storage`]: one function's entries: their names, encoding, ttl;
//! - `writer`: writes and deletions off the calling thread, done before the cell's reply;
//! - `trim`: a folder's size limit, least recently used first;
//! - [`location`]: the folders and the limit; [`signing`]: the key.
//!
//! Two stacks of tiers exist. Every `cache_data` entry computed in a kernel's cell process is
//! copied to the kernel's store, so a dying cell process loses nothing. `persist = "disk"`
//! entries go to the cache folder instead and, with `CELLAR_CACHE_URL`, to the remote tier:
//! after a restart, in a later CI run or on another machine, a call finds the entry, checks it,
//! loads it into memory and replays its outputs. `cache_resource` entries are live objects
//! (sockets, threads) and are never written: they are rebuilt.

pub mod entry;
pub(crate) mod fn_storage;
pub mod folder;
pub mod location;
pub mod remote;
pub mod signing;
pub mod tiered;
mod trim;
mod writer;

pub use crate::protocol::Reach;
pub(crate) use entry::Codec;
pub(crate) use fn_storage::FnStorage;
pub(crate) use writer::flush;

use folder::Folder;
use remote::Remote;
use std::path::PathBuf;
use std::sync::OnceLock;
use tiered::{Locality, Tier, Tiered};

/// One place entries are kept: whole entries as bytes under a name such as
/// `load-0123456789abcdef/<blake3>.entry` (a function's folder, then the entry).
pub trait Storage: Send + Sync {
    /// What and where it is, for messages: "the cache folder /data/.cellar-cache".
    fn describe(&self) -> String;
    /// The bytes stored under `name`, if any.
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Stores `bytes` under `name` whole: a reader sees the old entry or the new one.
    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), StorageError>;
    fn delete(&self, names: &[String]) -> Result<(), StorageError>;
    /// Removes every entry in these function folders.
    fn delete_folders(&self, folders: &[String]) -> Result<(), StorageError>;
}

/// Why a tier could not do what was asked, in words that say what failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot create the folder {path}: {source}")]
    CreateFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove {path}: {source}")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The kernel's words: unreachable, timed out, refused, misconfigured.
    #[error("{0}")]
    Remote(String),
}

/// The kernel's store: a copy of every `cache_data` entry of its cell process (none outside a
/// kernel).
pub(crate) fn kernel_store() -> Option<&'static Tiered> {
    static STORE: OnceLock<Option<Tiered>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            let root = location::crash_root()?;
            let folder = Folder::new(root, "the kernel's store", folder::Sync::No);
            Some(Tiered::new(vec![Tier::new(folder, Locality::ThisMachine)]))
        })
        .as_ref()
}

/// Where `persist = "disk"` entries live: the cache folder, then the remote tier if the kernel
/// serves one.
pub(crate) fn persisted() -> &'static Tiered {
    static PERSISTED: OnceLock<Tiered> = OnceLock::new();
    PERSISTED.get_or_init(|| {
        let folder = Folder::new(
            location::persist_root(),
            "the cache folder",
            folder::Sync::Yes,
        );
        let mut tiers = vec![Tier::new(folder, Locality::ThisMachine)];
        if let Some(remote) = Remote::from_env() {
            tiers.push(Tier::new(remote, Locality::Shared));
        }
        Tiered::new(tiers)
    })
}

/// Removes every entry of both stacks (`cellar::cache_data::clear()`, `:cellar clear`); with
/// [`Reach::EveryTier`], also what the remote tier holds of the functions this notebook's cache
/// folder knows (`:cellar clear remote`).
pub(crate) fn delete_everything(reach: Reach, also_folders: Vec<String>) {
    if reach == Reach::EveryTier {
        let mut folders = trim::function_folders(&location::persist_root());
        folders.extend(also_folders);
        folders.sort();
        folders.dedup();
        let persisted = persisted();
        writer::submit(move || persisted.delete_folders(&folders, Reach::EveryTier));
    }
    for root in location::crash_root()
        .into_iter()
        .chain([location::persist_root()])
    {
        writer::submit(move || trim::clear(&root));
    }
}

/// The local folders in use and what they hold: (what, folder, files, bytes).
pub(crate) fn usage() -> Vec<(&'static str, PathBuf, usize, u64)> {
    let mut found = Vec::new();
    if let Some(root) = location::crash_root() {
        let (files, bytes) = trim::usage(&root);
        found.push((
            "kernel store (survives a crash of the cell process)",
            root,
            files,
            bytes,
        ));
    }
    let root = location::persist_root();
    let (files, bytes) = trim::usage(&root);
    found.push(("cache folder (persist = \"disk\")", root, files, bytes));
    found
}
