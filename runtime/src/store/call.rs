//! One cached call, from lookup to return.
//!
//! Hit: validate (if any), replay what the body printed when it ran, return the stored `Arc`.
//! Miss: claim the key (or wait for the caller computing it), look again, run the body, store.
//! Only the outermost cached call on a thread shows a spinner and records output for replay;
//! a nested miss takes its own slice of the outer recording.
//!
//! None of it is generic: the value is a [`Value`] and the body an erased closure, so this is
//! compiled once, into the runtime, not in every cell that calls a cached function.

use super::cache::FnCache;
use super::inflight::Claim;
use super::registry;
use super::spec::ErasedSpec;
use super::storage::{FnStorage, Reach};
use super::value::{DataOps, Value};
use crate::hash::Digest;
use crate::replay::{self, Record};
use crate::spinner;
use std::cell::Cell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::Instant;

thread_local! {
    /// How many cached bodies this thread is inside.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Marks this thread as inside a cached body until dropped (also when the body panics).
struct Inside {
    outermost: bool,
}

impl Inside {
    fn enter() -> Inside {
        let depth = DEPTH.get();
        DEPTH.set(depth + 1);
        Inside {
            outermost: depth == 0,
        }
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        DEPTH.set(DEPTH.get() - 1);
    }
}

/// The stored value for `key`, computing it with `body` (called at most once) on a miss.
/// `data` is given for `cache_data`.
pub(crate) fn get_or_compute(
    spec: &'static dyn ErasedSpec,
    key: Digest,
    data: Option<DataOps>,
    body: &mut dyn FnMut() -> Value,
) -> Value {
    let mut cache = registry::cache_for(spec, data);
    loop {
        if let Some((value, record)) = lookup(&cache, &key) {
            if valid(&cache, &value) {
                return hit(&cache, value, &record);
            }
            cache.release(cache.discard(&key, &value));
        }
        let waiter = match cache.inflight.claim(key, spec.name()) {
            Claim::Wait(waiter) => waiter,
            Claim::Owner(claim) => {
                // Another caller may have stored the value between our lookup and the claim.
                if let Some((value, record)) = lookup(&cache, &key) {
                    drop(claim);
                    return hit(&cache, value, &record);
                }
                // Not in memory: on disk, if an earlier process stored it.
                if let Some((value, record, expired)) = cache.restore(&key) {
                    cache.release(expired);
                    if valid(&cache, &value) {
                        drop(claim);
                        return hit(&cache, value, &record);
                    }
                    cache.release(cache.discard(&key, &value));
                }
                let started = Instant::now();
                let (value, record) = compute(spec, body);
                cache.count_miss(started.elapsed());
                let removed = cache.store(key, value.clone(), record);
                drop(claim);
                cache.release(removed);
                return value;
            }
        };
        waiter.wait();
        // The cache may have been replaced meanwhile (session ended, options changed).
        cache = registry::cache_for(spec, data);
    }
}

fn lookup(cache: &FnCache, key: &Digest) -> Option<(Value, Record)> {
    let (hit, expired) = cache.lookup(key);
    cache.release(expired);
    hit
}

fn hit(cache: &FnCache, value: Value, record: &Record) -> Value {
    cache.count_hit();
    replay::replay(record);
    value
}

/// Runs `validate` on a hit; a validate that panics counts as `false` (and is reported).
fn valid(cache: &FnCache, value: &Value) -> bool {
    catch_unwind(AssertUnwindSafe(|| cache.spec.validate(&**value)))
        .unwrap_or_else(|_| {
            eprintln!(
                "cellar: the validate of `{}` panicked; recomputing",
                cache.name
            );
            Some(false)
        })
        .unwrap_or(true)
}

/// Runs the body of a miss: with a spinner and a fresh recording when it is the outermost
/// cached call, with its own part of the running recording when nested. A panic of the body
/// propagates once the spinner and the recording are cleaned up; nothing is stored.
fn compute(spec: &dyn ErasedSpec, body: &mut dyn FnMut() -> Value) -> (Value, Record) {
    let inside = Inside::enter();
    let (result, record) = if inside.outermost {
        let options = spec.options();
        let _spinner = spinner::show(spec.name(), options.spinner, options.show_time);
        let recording = replay::Recording::start();
        let result = catch_unwind(AssertUnwindSafe(body));
        (result, recording.finish())
    } else {
        let recording = replay::NestedRecording::start();
        let result = catch_unwind(AssertUnwindSafe(body));
        (result, recording.finish())
    };
    drop(inside);
    match result {
        Ok(value) => (value, record),
        Err(panic) => resume_unwind(panic),
    }
}

/// Removes the entry of one argument list in the current session's cache (`f::clear(args)`),
/// in memory and in every tier of storage; true if memory had it.
pub(crate) fn clear_one(spec: &dyn ErasedSpec, key: Digest) -> bool {
    let Some(cache) = registry::existing(spec) else {
        let session = registry::session_of(spec);
        if let Some(storage) = FnStorage::of(spec, session.as_deref()) {
            storage.delete(vec![key], Reach::EveryTier);
        }
        return false;
    };
    let removed = cache.remove(&key);
    let found = !removed.is_empty();
    cache.release(removed);
    found
}

/// Removes every entry of one function, in every session (`f::clear_all()`), in memory and
/// in every tier of storage.
pub(crate) fn clear_all_of(spec: &dyn ErasedSpec) -> usize {
    let count = registry::clear_where(|cache| cache.fn_key == *spec.key());
    if let Some(storage) = FnStorage::of(spec, None) {
        storage.delete_all(Reach::EveryTier);
    }
    count
}
