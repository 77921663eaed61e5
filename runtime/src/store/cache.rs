//! [`FnCache`]: the entries of one function (in one session): LRU order, ttl, stats.
//!
//! Entries are `Arc<T>`: a `cache_data` hit wraps a clone of that `Arc` in a `Data`, a
//! `cache_resource` hit returns it, so a hit costs the same whatever the value's size.
//!
//! Every method that removes entries returns them instead of releasing them: the caller drops
//! the lock first and then runs `on_release` ([`FnCache::release`]). User code never runs while a
//! cache lock is held, so a callback may call cached functions itself without deadlocking.

use super::inflight::InFlight;
use super::spec::{CacheKind, FnSpec, Scope};
use super::stats::CacheStats;
use crate::hash::Digest;
use crate::replay::Record;
use lru::LruCache;
use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One stored value with what was recorded while it was computed.
pub(crate) struct Entry<T> {
    pub value: Arc<T>,
    pub record: Record,
    stored_at: Instant,
}

/// A removed entry, waiting for its `on_release` outside the lock.
pub(crate) type Removed<T> = Vec<Arc<T>>;

struct State<T> {
    entries: LruCache<Digest, Entry<T>>,
    /// Keys in the order they were written, for ttl reaping: all entries share one ttl, so the
    /// expired ones are at the front. Stale items (entry gone or rewritten) are skipped.
    written: VecDeque<(Instant, Digest)>,
    /// Set when the cache left the registry (session end, replaced, shutdown): a value computed
    /// after that is released at once instead of being stored where nobody will find it.
    detached: bool,
}

/// The cache of one function, or of one function in one session.
pub(crate) struct FnCache<T: 'static> {
    pub name: &'static str,
    pub kind: CacheKind,
    pub scope: Scope,
    pub fn_key: Digest,
    pub options_key: Digest,
    pub session: Option<Arc<str>>,
    ttl: Option<Duration>,
    pub validate: Option<fn(&T) -> bool>,
    on_release: Option<fn(&T)>,
    /// Sizes a value for the stats (`cache_data` only; run when the stats are asked for).
    size_of: Option<fn(&T) -> usize>,
    state: Mutex<State<T>>,
    pub inflight: InFlight,
    hits: AtomicU64,
    misses: AtomicU64,
    last_compute_nanos: AtomicU64,
}

impl<T: Send + Sync + 'static> FnCache<T> {
    pub fn new(
        spec: &FnSpec<T>,
        session: Option<Arc<str>>,
        size_of: Option<fn(&T) -> usize>,
    ) -> Self {
        // The ttl expression runs here, once per cache; a bad one is the user's error to see.
        let ttl = spec.options.ttl.map(|ttl| ttl());
        let entries = match spec.options.max_entries {
            Some(max) => LruCache::new(NonZeroUsize::new(max).unwrap_or(NonZeroUsize::MIN)),
            None => LruCache::unbounded(),
        };
        FnCache {
            name: spec.name,
            kind: spec.kind,
            scope: spec.options.scope,
            fn_key: spec.key,
            options_key: spec.options_key,
            session,
            ttl,
            validate: spec.validate,
            on_release: spec.on_release,
            size_of,
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

    fn state(&self) -> MutexGuard<'_, State<T>> {
        // No user code runs under this lock, so poisoning can only come from a bug of ours;
        // the state is still consistent between statements, keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The live entry for `key` (refreshing its recency), and the entries that expired.
    pub fn lookup(&self, key: &Digest) -> (Option<(Arc<T>, Record)>, Removed<T>) {
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

    fn expired(&self, entry: &Entry<T>, now: Option<Instant>) -> bool {
        match (self.ttl, now) {
            (Some(ttl), Some(now)) => now.duration_since(entry.stored_at) >= ttl,
            _ => false,
        }
    }

    /// Stores a computed value; returns what left the cache (LRU eviction, expiry, or the value
    /// itself when the cache is detached).
    pub fn insert(&self, key: Digest, value: Arc<T>, record: Record) -> Removed<T> {
        let mut state = self.state();
        let mut removed = Vec::new();
        if state.detached {
            removed.push(value);
            return removed;
        }
        let stored_at = Instant::now();
        if let Some(ttl) = self.ttl {
            reap_expired(&mut state, ttl, stored_at, &mut removed);
            state.written.push_back((stored_at, key));
        }
        let entry = Entry {
            value,
            record,
            stored_at,
        };
        if let Some((_, old)) = state.entries.push(key, entry) {
            removed.push(old.value);
        }
        removed
    }

    /// Removes `key` if it still holds `value` (a validate failure must not remove a newer
    /// entry another thread stored meanwhile).
    pub fn discard(&self, key: &Digest, value: &Arc<T>) -> Removed<T> {
        let mut state = self.state();
        match state.entries.peek(key) {
            Some(entry) if Arc::ptr_eq(&entry.value, value) => {
                take(&mut state, key).into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    /// Removes one entry, whatever it holds.
    pub fn remove(&self, key: &Digest) -> Removed<T> {
        take(&mut self.state(), key).into_iter().collect()
    }

    /// Removes every entry; with `detach`, values computed later are released at once.
    pub fn drain(&self, detach: bool) -> Removed<T> {
        let mut state = self.state();
        state.detached |= detach;
        state.written.clear();
        let mut removed = Vec::with_capacity(state.entries.len());
        while let Some((_, entry)) = state.entries.pop_lru() {
            removed.push(entry.value);
        }
        removed
    }

    /// Runs `on_release` once for each removed value, then drops them. A callback that panics
    /// is reported and does not stop the others.
    pub fn release(&self, removed: Removed<T>) {
        let Some(on_release) = self.on_release else {
            return;
        };
        for value in removed {
            if catch_unwind(AssertUnwindSafe(|| on_release(&value))).is_err() {
                eprintln!("cellar: the on_release of `{}` panicked", self.name);
            }
        }
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
        let values: Vec<Arc<T>> = self
            .state()
            .entries
            .iter()
            .map(|(_, entry)| entry.value.clone())
            .collect();
        let bytes = self
            .size_of
            .map(|size_of| values.iter().map(|value| size_of(value)).sum());
        let last = self.last_compute_nanos.load(Ordering::Relaxed);
        CacheStats {
            name: self.name,
            kind: self.kind,
            scope: self.scope,
            session: self.session.as_deref().map(str::to_string),
            entries: values.len(),
            bytes,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            last_compute: (last != u64::MAX).then(|| Duration::from_nanos(last)),
        }
    }
}

fn take<T>(state: &mut State<T>, key: &Digest) -> Option<Arc<T>> {
    state.entries.pop(key).map(|entry| entry.value)
}

/// Pops the entries whose ttl ran out, oldest write first.
fn reap_expired<T>(state: &mut State<T>, ttl: Duration, now: Instant, removed: &mut Removed<T>) {
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
