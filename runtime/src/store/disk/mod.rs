//! `cache_data` entries on disk, so that they outlive the process that computed them.
//!
//! Memory stays the first place a call looks; disk is where a miss in memory looks next. Every
//! `cache_data` entry computed in a kernel's cell process is copied to the kernel's store, and
//! `persist = "disk"` entries go to the cache folder instead ([`location`]): after the cell
//! process dies, or in a new kernel or a later CI run, a call finds the file, checks it, loads
//! it into memory and replays its outputs. `cache_resource` entries are live objects (sockets,
//! threads) and are never written: they are rebuilt.
//!
//! - [`file`]: the entry file format, checked with blake3 on every read;
//! - `writer`: writes and deletions off the calling thread, done before the cell's reply;
//! - `trim`: the size limit, least recently used first;
//! - [`location`]: the folders and the limit.
//!
//! A function's entries live in one folder named after it and its key; an entry's file name is
//! blake3 of its value key, the value's type and its client session (content addressing). A
//! file is written under a temporary name and renamed into place, so two kernels writing one
//! key leave one whole file, the last one. A damaged file is removed and the value recomputed.

mod file;
pub mod location;
mod trim;
mod writer;

pub(crate) use file::Codec;
pub(crate) use writer::flush;

use super::spec::{CacheKind, ErasedSpec};
use super::value::Value;
use crate::hash::Digest;
use crate::replay::Record;
use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// One function's folder, with what makes an entry's file name.
#[derive(Clone)]
pub(crate) struct Shelf {
    name: &'static str,
    root: PathBuf,
    dir: PathBuf,
    /// The value type and the client session: the same key with another type or in another
    /// session is another file.
    salt: Digest,
    /// Flushed to the device on write (the cache folder); the kernel's store only has to
    /// outlive a process.
    sync: bool,
}

/// An entry read back from disk.
pub(crate) struct Loaded {
    pub value: Value,
    pub record: Record,
    /// How long ago it was computed.
    pub age: Duration,
}

impl Shelf {
    /// The folder of a `cache_data` function's entries: the cache folder with `persist = "disk"`,
    /// else the kernel's store (none outside a kernel).
    pub fn of(spec: &dyn ErasedSpec, session: Option<&str>) -> Option<Shelf> {
        if spec.kind() != CacheKind::Data {
            return None;
        }
        let persist = spec.options().persist.is_some();
        let root = if persist {
            location::persist_root()
        } else {
            location::crash_root()?
        };
        let mut salt = blake3::Hasher::new();
        salt.update(spec.value_type_name().as_bytes());
        salt.update(&[0xff]);
        salt.update(session.unwrap_or("").as_bytes());
        let key_hex = blake3::Hash::from(*spec.key()).to_hex();
        Some(Shelf {
            name: spec.name(),
            dir: root.join(format!("{}-{}", spec.name(), &key_hex[..16])),
            root,
            salt: *salt.finalize().as_bytes(),
            sync: persist,
        })
    }

    fn path(&self, key: &Digest) -> PathBuf {
        let mut name = blake3::Hasher::new();
        name.update(key);
        name.update(&self.salt);
        let hex = name.finalize().to_hex();
        self.dir
            .join(format!("{}.{}", &hex[..32], trim::ENTRY_EXTENSION))
    }

    /// The entry for `key`, if a whole, unexpired one is on disk. An expired or damaged file is
    /// removed (a damaged one with a message saying so).
    pub fn load(&self, key: &Digest, ttl: Option<Duration>, codec: Codec) -> Option<Loaded> {
        // What this process queued comes first: an entry evicted or cleared a moment ago must
        // not come back from a file whose deletion is still queued.
        writer::flush();
        let path = self.path(key);
        if let Some(ttl) = ttl {
            let age = age_of(file::stored_at(&path).ok()?);
            if age >= ttl {
                self.delete(vec![*key]);
                return None;
            }
        }
        match file::read(&path, codec) {
            Ok(stored) => {
                // A load is a use: the size limit trims least recently used files first.
                let _ = std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(SystemTime::now()));
                Some(Loaded {
                    value: stored.value,
                    record: stored.record,
                    age: age_of(stored.stored_at),
                })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => {
                eprintln!(
                    "cellar: the stored entry of `{}` ({}) is damaged: {error}; it was removed and the value is computed again",
                    self.name,
                    path.display()
                );
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Writes an entry (in the background in a kernel): to a temporary file, then renamed.
    pub fn save(&self, key: &Digest, value: Value, record: Record, codec: Codec) {
        let path = self.path(key);
        let shelf = self.clone();
        let stored_at = SystemTime::now();
        writer::submit(move || {
            if let Err(error) = shelf.write(&path, &*value, &record, stored_at, codec) {
                eprintln!(
                    "cellar: could not store an entry of `{}` in {}: {error}; it is kept in memory only",
                    shelf.name,
                    shelf.dir.display()
                );
            }
        });
    }

    fn write(
        &self,
        path: &Path,
        value: &dyn Any,
        record: &Record,
        at: SystemTime,
        codec: Codec,
    ) -> std::io::Result<()> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        std::fs::create_dir_all(&self.dir)?;
        let temp = path.with_extension(format!(
            "{}-{}.{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            trim::TEMP_EXTENSION
        ));
        let written = file::write(&temp, value, record, at, codec, self.sync)
            .and_then(|_| std::fs::rename(&temp, path));
        if written.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        written?;
        trim::trim(&self.root, location::limit());
        Ok(())
    }

    /// Removes the files of these keys (in order with the writes queued before).
    pub fn delete(&self, keys: Vec<Digest>) {
        if keys.is_empty() {
            return;
        }
        let paths: Vec<PathBuf> = keys.iter().map(|key| self.path(key)).collect();
        writer::submit(move || {
            for path in paths {
                let _ = std::fs::remove_file(path);
            }
        });
    }

    /// Removes every file of the function, in every session.
    pub fn delete_all(&self) {
        let dir = self.dir.clone();
        writer::submit(move || {
            let _ = std::fs::remove_dir_all(dir);
        });
    }

    /// The bytes of the function's files.
    pub fn bytes(&self) -> u64 {
        trim::folder_bytes(&self.dir)
    }
}

/// Removes every entry file in both folders (`cellar::cache_data::clear()`, `:cellar clear`).
pub(crate) fn delete_everything() {
    for root in roots() {
        writer::submit(move || trim::clear(&root));
    }
}

/// The folders in use and what they hold: (what, folder, files, bytes).
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

fn roots() -> Vec<PathBuf> {
    location::crash_root()
        .into_iter()
        .chain([location::persist_root()])
        .collect()
}

fn age_of(stored_at: SystemTime) -> Duration {
    SystemTime::now()
        .duration_since(stored_at)
        .unwrap_or_default()
}
