//! The process-wide registry: every function's cache, by function key (and session).
//!
//! The kernel loads `cellar` as one shared library for every cell, so this one `static` outlives
//! the cells that fill it: re-running a cell finds its function's entries again, because the
//! function key (blake3 of its source) is the same.
//!
//! Two things can make the registered cache the wrong one for a caller, and both replace it (its
//! entries are released): the options that shape entries changed (`options_key`), or the value
//! type is new (a notebook type was redefined and got a new `TypeId`). A value is never
//! reinterpreted: a caller only ever gets a cache of its own value type.

use super::cache::FnCache;
use super::spec::{ErasedSpec, Scope};
use super::stats::CacheStats;
use super::value::DataOps;
use crate::hash::Digest;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

#[derive(Clone, PartialEq, Eq, Hash)]
struct RegistryKey {
    fn_key: Digest,
    session: Option<Arc<str>>,
}

type Registry = HashMap<RegistryKey, Arc<FnCache>>;

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(Default::default);

fn read() -> std::sync::RwLockReadGuard<'static, Registry> {
    REGISTRY
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write() -> std::sync::RwLockWriteGuard<'static, Registry> {
    REGISTRY
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The session a spec's entries belong to now: `None` for global caches (no allocation, no
/// file read on that path) and outside a kernel.
pub(crate) fn session_of(spec: &dyn ErasedSpec) -> Option<Arc<str>> {
    match spec.options().scope {
        Scope::Global => None,
        Scope::Session => crate::session::current_session().map(Arc::from),
    }
}

/// The cache registered under `key`, if it is the one for `spec`: the same options, the same
/// value type.
fn fitting(registry: &Registry, key: &RegistryKey, spec: &dyn ErasedSpec) -> Option<Arc<FnCache>> {
    let cache = registry.get(key)?;
    let fits = cache.options_key == *spec.options_key() && cache.value_type == spec.value_type();
    fits.then(|| cache.clone())
}

/// The cache for `spec` in the current session, created (or replaced) if need be.
pub(crate) fn cache_for(spec: &'static dyn ErasedSpec, data: Option<DataOps>) -> Arc<FnCache> {
    // From the first cache on, the kernel has something to ask about.
    crate::control::serve_in_background();
    let key = RegistryKey {
        fn_key: *spec.key(),
        session: session_of(spec),
    };
    if let Some(cache) = fitting(&read(), &key, spec) {
        return cache;
    }
    // Build outside the lock: evaluating the ttl expression is user code.
    let fresh = Arc::new(FnCache::new(spec, key.session.clone(), data));
    let replaced = {
        let mut registry = write();
        if let Some(cache) = fitting(&registry, &key, spec) {
            return cache;
        }
        registry.insert(key, fresh.clone())
    };
    if let Some(old) = replaced {
        // Its files stay: the new cache (same function key) finds them.
        old.clear(true, true);
    }
    fresh
}

/// The cache for `spec` in the current session, if there is one already.
pub(crate) fn existing(spec: &dyn ErasedSpec) -> Option<Arc<FnCache>> {
    let key = RegistryKey {
        fn_key: *spec.key(),
        session: session_of(spec),
    };
    fitting(&read(), &key, spec)
}

/// Clears the caches `pick` selects (entries released, caches kept); returns how many entries.
pub(crate) fn clear_where(pick: impl Fn(&FnCache) -> bool) -> usize {
    let chosen: Vec<_> = read()
        .values()
        .filter(|cache| pick(cache.as_ref()))
        .cloned()
        .collect();
    chosen.iter().map(|cache| cache.clear(false, false)).sum()
}

/// Takes the caches `pick` selects out of the registry and releases their entries; with
/// `keep_files` their files stay on disk for the next process.
pub(crate) fn remove_where(pick: impl Fn(&FnCache) -> bool, keep_files: bool) -> usize {
    let removed: Vec<_> = {
        let mut registry = write();
        let keys: Vec<_> = registry
            .iter()
            .filter(|(_, cache)| pick(cache.as_ref()))
            .map(|(key, _)| key.clone())
            .collect();
        keys.iter().filter_map(|key| registry.remove(key)).collect()
    };
    removed
        .iter()
        .map(|cache| cache.clear(true, keep_files))
        .sum()
}

/// The storage folder names of the registered `persist = "disk"` caches.
pub(crate) fn persisted_folders() -> Vec<String> {
    read()
        .values()
        .filter_map(|cache| cache.persisted_folder().map(str::to_string))
        .collect()
}

/// The stats of every registered cache, by function name then session.
pub(crate) fn stats() -> Vec<CacheStats> {
    let caches: Vec<_> = read().values().cloned().collect();
    let mut stats: Vec<_> = caches.iter().map(|cache| cache.stats()).collect();
    stats.sort_by(|a, b| (a.name, &a.session).cmp(&(b.name, &b.session)));
    stats
}
