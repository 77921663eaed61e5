//! [`FnStorage`]: one `cache_data` function's entries outside memory.
//!
//! A function's entries live in one folder named after it and its key; an entry's name is
//! blake3 of its value key, the value's type and its client session (content addressing), so
//! every machine that runs the same function on the same arguments names the entry alike.

use super::entry::{self, Codec, StoredEntry};
use super::signing::SigningKey;
use super::tiered::{Tiered, Verdict};
use super::{location, trim, writer, Reach};
use crate::hash::Digest;
use crate::replay::Record;
use crate::store::spec::{CacheKind, ErasedSpec};
use crate::store::value::Value;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// One function's entries in its stack of tiers.
#[derive(Clone)]
pub(crate) struct FnStorage {
    name: &'static str,
    /// The function's folder name: `<name>-<16 hex digits of its key>`.
    folder: String,
    /// The value type and the client session: the same key with another type or in another
    /// session is another entry.
    salt: Digest,
    tiers: &'static Tiered,
    /// The nearest tier's folder, for the bytes the report shows.
    local_root: PathBuf,
}

impl FnStorage {
    /// The entries of a `cache_data` function: with `persist = "disk"` in the cache folder and
    /// the remote tier, else in the kernel's store (none outside a kernel).
    pub fn of(spec: &dyn ErasedSpec, session: Option<&str>) -> Option<FnStorage> {
        if spec.kind() != CacheKind::Data {
            return None;
        }
        let (tiers, local_root) = if spec.options().persist.is_some() {
            (super::persisted(), location::persist_root())
        } else {
            (super::kernel_store()?, location::crash_root()?)
        };
        let mut salt = blake3::Hasher::new();
        salt.update(spec.value_type_name().as_bytes());
        salt.update(&[0xff]);
        salt.update(session.unwrap_or("").as_bytes());
        Some(FnStorage {
            name: spec.name(),
            folder: folder_of(spec),
            salt: *salt.finalize().as_bytes(),
            tiers,
            local_root,
        })
    }

    fn entry_name(&self, key: &Digest) -> String {
        let mut name = blake3::Hasher::new();
        name.update(key);
        name.update(&self.salt);
        let hex = name.finalize().to_hex();
        format!("{}/{}.{}", self.folder, &hex[..32], trim::ENTRY_EXTENSION)
    }

    /// The entry for `key`, if a whole, unexpired one is stored (nearest tier first). Expired
    /// and rejected entries are misses; rejected ones are reported.
    pub fn load(&self, key: &Digest, ttl: Option<Duration>, codec: Codec) -> Option<StoredEntry> {
        // What this process queued comes first: an entry evicted or cleared a moment ago must
        // not come back from a file whose deletion is still queued.
        writer::flush();
        let name = self.entry_name(key);
        let signing = SigningKey::from_env();
        let label = format!("`{}` ({name})", self.name);
        self.tiers.get(&name, &label, |bytes| {
            let checked = match entry::check(bytes, signing) {
                Ok(checked) => checked,
                Err(why) => return Verdict::Reject(why),
            };
            if ttl.is_some_and(|ttl| entry::age_of(checked.stored_at) >= ttl) {
                return Verdict::Expired;
            }
            match checked.decode(codec) {
                Ok(entry) => Verdict::Take(entry),
                Err(why) => Verdict::Reject(why),
            }
        })
    }

    /// Writes an entry to every tier (in the background in a kernel, done before the cell's
    /// reply).
    pub fn save(&self, key: &Digest, value: Value, record: Record, codec: Codec) {
        let name = self.entry_name(key);
        let entry = StoredEntry {
            value,
            record,
            stored_at: SystemTime::now(),
        };
        let (tiers, function) = (self.tiers, self.name);
        writer::submit(
            move || match entry::seal(&entry, codec, SigningKey::from_env()) {
                Ok(bytes) => tiers.put(&name, &bytes),
                Err(error) => eprintln!(
                    "cellar: an entry of `{function}` does not serialize ({error}); it is kept in \
                     memory only"
                ),
            },
        );
    }

    /// Removes the entries of these keys (in order with the writes queued before).
    pub fn delete(&self, keys: Vec<Digest>, reach: Reach) {
        if keys.is_empty() {
            return;
        }
        let names: Vec<String> = keys.iter().map(|key| self.entry_name(key)).collect();
        let tiers = self.tiers;
        writer::submit(move || tiers.delete(&names, reach));
    }

    /// Removes every entry of the function, in every session.
    pub fn delete_all(&self, reach: Reach) {
        let (tiers, folders) = (self.tiers, vec![self.folder.clone()]);
        writer::submit(move || tiers.delete_folders(&folders, reach));
    }

    /// The bytes of the function's entries in the nearest tier.
    pub fn bytes(&self) -> u64 {
        trim::folder_bytes(&self.local_root.join(&self.folder))
    }

    /// The function's folder name, the same in every tier.
    pub fn folder(&self) -> &str {
        &self.folder
    }
}

fn folder_of(spec: &dyn ErasedSpec) -> String {
    let key_hex = blake3::Hash::from(*spec.key()).to_hex();
    format!("{}-{}", spec.name(), &key_hex[..16])
}
