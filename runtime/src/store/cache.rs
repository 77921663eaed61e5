//! [`FnCache`]: the entries of one function (in one session): LRU order, ttl, stats.
//!
//! Entries are [`Value`]s, an `Arc` of the value whatever its type: a `cache_data` hit wraps a
//! clone of that `Arc` in a `Data`, a `cache_resource` hit returns it, so a hit costs the same
//! whatever the value's size. All values of one cache have one type, [`FnCache::value_type`].
//!
//! Every method that removes entries returns them instead of releasing them: the caller drops
//! the lock first and then runs `on_release` ([`FnCache::release`]). User code never runs while a
//! cache lock is held, so a callback may call cached functions itself without deadlocking.
//!
//! A `cache_data` cache also has an [`FnStorage`]: what it stores is written there too, a miss
//! in memory looks there, and an entry that leaves the cache leaves this machine's tiers with it
//! (a clear asked for by name leaves every tier).

use super::inflight::InFlight;
use super::spec::{CacheKind, ErasedSpec, Scope};
use super::stats::CacheStats;
use super::storage::{FnStorage, Reach};
use super::value::{DataOps, Value};
use crate::hash::Digest;
use crate::replay::Record;
use lru::LruCache;
use std::any::TypeId;
use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One stored value with what was recorded while it was computed.
pub(crate) struct Entry {
    pub value: Value,
    pub record: Record,
    stored_at: Instant,
}

/// Removed entries, waiting for their `on_release` outside the lock. With a key, the entry
/// leaves this machine's storage too; without, it stays (shutdown, a replaced cache, a value
/// never stored, or one already removed everywhere).
pub(crate) type Removed = Vec<(Option<Digest>, Value)>;

struct State {
    entries: LruCache<Digest, Entry>,
    /// Keys in the order they were written, for ttl reaping: all entries share one ttl, so the
    /// expired ones are at the front. Stale items (entry gone or rewritten) are skipped.
    written: VecDeque<(Instant, Digest)>,
    /// Set when the cache left the registry (session end, replaced, shutdown): a value computed
    /// after that is released at once instead of being stored where nobody will find it.
    detached: bool,
}

/// The cache of one function, or of one function in one session.
pub(crate) struct FnCache {
    pub name: &'static str,
    pub kind: CacheKind,
    pub scope: Scope,
    pub fn_key: Digest,
    pub options_key: Digest,
    pub session: Option<Arc<str>>,
    /// The type of every value stored here.
    pub value_type: TypeId,
    ttl: Option<Duration>,
    /// The spec the cache was made from, for its `validate` and `on_release`.
    pub spec: &'static dyn ErasedSpec,
    /// Sizing and encoding (`cache_data` only).
    data: Option<DataOps>,
    /// Where entries are copied outside memory (`cache_data` in a kernel, or with
    /// `persist = "disk"`).
    storage: Option<FnStorage>,
    state: Mutex<State>,
    pub inflight: InFlight,
    hits: AtomicU64,
    misses: AtomicU64,
    last_compute_nanos: AtomicU64,
}

impl FnCache {
    pub fn new(
        spec: &'static dyn ErasedSpec,
        session: Option<Arc<str>>,
        data: Option<DataOps>,
    ) -> Self {
        let options = spec.options();
        // The ttl expression runs here, once per cache; a bad one is the user's error to see.
        let ttl = options.ttl.map(|ttl| ttl());
        let entries = match options.max_entries {
            Some(max) => LruCache::new(NonZeroUsize::new(max).unwrap_or(NonZeroUsize::MIN)),
            None => LruCache::unbounded(),
        };
        FnCache {
            name: spec.name(),
            kind: spec.kind(),
            scope: options.scope,
            fn_key: *spec.key(),
            options_key: *spec.options_key(),
            value_type: spec.value_type(),
            ttl,
            spec,
            data,
            storage: data.and_then(|_| FnStorage::of(spec, session.as_deref())),
            session,
            state: Mutex::new(State {
                entries,
                written: VecDeque::new(),
                detached: false,
            }),
            inflight: InFlight::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            last_compute_nanos: AtomicU64::new(u64::MAX),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // No user code runs under this lock, so poisoning can only come from a bug of ours;
        // the state is still consistent between statements, keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The live entry for `key` (refreshing its recency), and the entries that expired.
    pub fn lookup(&self, key: &Digest) -> (Option<(Value, Record)>, Removed) {
        let mut state = self.state();
        let mut removed = Vec::new();
        let now = self.ttl.map(|_| Instant::now());
        if let (Some(ttl), Some(now)) = (self.ttl, now) {
            reap_expired(&mut state, ttl, now, &mut removed);
        }
        let hit = match state.entries.get(key) {
            Some(entry) if !self.expired(entry, now) => {
                Some((entry.value.clone(), entry.record.clone()))
            }
            Some(_) => {
                removed.extend(take(&mut state, key));
                None
            }
            None => None,
        };
        (hit, removed)
    }

    fn expired(&self, entry: &Entry, now: Option<Instant>) -> bool {
        match (self.ttl, now) {
            (Some(ttl), Some(now)) => now.duration_since(entry.stored_at) >= ttl,
            _ => false,
        }
    }

    /// Stores a computed value (and, for `cache_data`, writes it to storage); returns what
    /// left the cache (LRU eviction, expiry, or the value itself when the cache is detached).
    pub fn store(&self, key: Digest, value: Value, record: Record) -> Removed {
        let (stored, removed) = self.insert(key, value.clone(), record.clone(), Instant::now());
        if let (true, Some(storage), Some(data)) = (stored, &self.storage, self.data) {
            storage.save(&key, value, record, data.codec);
        }
        removed
    }

    /// The entry for `key` from storage, put back in memory, when memory has none (after the
    /// cell process died, in a new kernel, in a later run, on another machine). Expired and
    /// rejected entries are misses.
    pub fn restore(&self, key: &Digest) -> Option<(Value, Record, Removed)> {
        let (storage, data) = (self.storage.as_ref()?, self.data?);
        let stored = storage.load(key, self.ttl, data.codec)?;
        let now = Instant::now();
        let stored_at = now.checked_sub(stored.age()).unwrap_or(now);
        let (_, removed) =
            self.insert(*key, stored.value.clone(), stored.record.clone(), stored_at);
        Some((stored.value, stored.record, removed))
    }

    /// Puts an entry in memory; false (and the value among the removed) when detached.
    fn insert(
        &self,
        key: Digest,
        value: Value,
        record: Record,
        stored_at: Instant,
    ) -> (bool, Removed) {
        let mut state = self.state();
        let mut removed = Vec::new();
        if state.detached {
            removed.push((None, value));
            return (false, removed);
        }
        if let Some(ttl) = self.ttl {
            reap_expired(&mut state, ttl, Instant::now(), &mut removed);
            state.written.push_back((stored_at, key));
        }
        let entry = Entry {
            value,
            record,
            stored_at,
        };
        if let Some((old_key, old)) = state.entries.push(key, entry) {
            // The same key again keeps its (new) file; an evicted key loses its file.
            removed.push(((old_key != key).then_some(old_key), old.value));
        }
        (true, removed)
    }

    /// Removes `key` if it still holds `value` (a validate failure must not remove a newer
    /// entry another thread stored meanwhile).
    pub fn discard(&self, key: &Digest, value: &Value) -> Removed {
        let mut state = self.state();
        match state.entries.peek(key) {
            Some(entry) if Arc::ptr_eq(&entry.value, value) => {
                take(&mut state, key).into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    /// Removes one entry, whatever it holds, from memory and every tier of storage, even when
    /// memory had none (`f::clear(args)`).
    pub fn remove(&self, key: &Digest) -> Removed {
        let removed: Removed = take(&mut self.state(), key)
            .into_iter()
            .map(|(_, value)| (None, value))
            .collect();
        if let Some(storage) = &self.storage {
            storage.delete(vec![*key], Reach::EveryTier);
        }
        removed
    }

    /// Removes every entry; with `detach`, values computed later are released at once. With
    /// `keep_files`, their files stay on disk (shutdown, a replaced cache).
    pub fn drain(&self, detach: bool, keep_files: bool) -> Removed {
        let mut state = self.state();
        state.detached |= detach;
        state.written.clear();
        let mut removed = Vec::with_capacity(state.entries.len());
        while let Some((key, entry)) = state.entries.pop_lru() {
            removed.push(((!keep_files).then_some(key), entry.value));
        }
        removed
    }

    /// Removes removed entries from this machine's storage, then runs `on_release` once for
    /// each and drops them. A callback that panics is reported and does not stop the others.
    pub fn release(&self, removed: Removed) {
        if let Some(storage) = &self.storage {
            let keys = removed.iter().filter_map(|(key, _)| *key).collect();
            storage.delete(keys, Reach::ThisMachine);
        }
        for (_, value) in removed {
            if catch_unwind(AssertUnwindSafe(|| self.spec.on_release(&*value))).is_err() {
                eprintln!("cellar: the on_release of `{}` panicked", self.name);
            }
        }
    }

    /// Removes every entry, firing `on_release` (and deleting its file unless `keep_files`);
    /// returns how many.
    pub fn clear(&self, detach: bool, keep_files: bool) -> usize {
        let removed = self.drain(detach, keep_files);
        let count = removed.len();
        self.release(removed);
        count
    }

    /// The storage folder of a `persist = "disk"` cache (the same in every tier).
    pub fn persisted_folder(&self) -> Option<&str> {
        let persisted = self.spec.options().persist.is_some();
        self.storage
            .as_ref()
            .filter(|_| persisted)
            .map(FnStorage::folder)
    }

    pub fn count_hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_miss(&self, compute: Duration) {
        self.misses.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(compute.as_nanos()).unwrap_or(u64::MAX - 1);
        self.last_compute_nanos.store(nanos, Ordering::Relaxed);
    }

    /// The counters, and the size of every entry (computed now, outside the lock).
    pub fn stats(&self) -> CacheStats {
        let values: Vec<Value> = self
            .state()
            .entries
            .iter()
            .map(|(_, entry)| entry.value.clone())
            .collect();
        let bytes = self
            .data
            .map(|data| values.iter().map(|value| (data.size_of)(&**value)).sum());
        let last = self.last_compute_nanos.load(Ordering::Relaxed);
        CacheStats {
            name: self.name,
            kind: self.kind,
            scope: self.scope,
            session: self.session.as_deref().map(str::to_string),
            entries: values.len(),
            bytes,
            disk_bytes: self.storage.as_ref().map(FnStorage::bytes),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            last_compute: (last != u64::MAX).then(|| Duration::from_nanos(last)),
        }
    }
}

fn take(state: &mut State, key: &Digest) -> Option<(Option<Digest>, Value)> {
    state
        .entries
        .pop(key)
        .map(|entry| (Some(*key), entry.value))
}

/// Pops the entries whose ttl ran out, oldest write first.
fn reap_expired(state: &mut State, ttl: Duration, now: Instant, removed: &mut Removed) {
    while let Some(&(stored_at, key)) = state.written.front() {
        if now.duration_since(stored_at) < ttl {
            break;
        }
        state.written.pop_front();
        let current = state
            .entries
            .peek(&key)
            .is_some_and(|entry| entry.stored_at == stored_at);
        if current {
            removed.extend(take(state, &key));
        }
    }
}
