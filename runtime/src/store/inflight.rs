//! Compute once: one computation per key at a time, the other callers wait for it.
//!
//! A per-key slot map, as Streamlit's `compute_value_lock` (double-checked locking): the first
//! caller of a missing key claims the slot and computes; later callers of that key wait on the
//! slot and then look the entry up again. Unrelated keys never wait for each other. The claim is
//! a guard: when the computation returns *or panics*, dropping it frees the slot and wakes the
//! waiters, so after a panic the next caller computes again.

use crate::hash::Digest;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;

#[derive(Default)]
pub(crate) struct InFlight {
    slots: Mutex<HashMap<Digest, Arc<Slot>>>,
}

struct Slot {
    owner: ThreadId,
    done: Mutex<bool>,
    finished: Condvar,
}

/// What a caller of a missing key gets: the right to compute, or a slot to wait on.
pub(crate) enum Claim<'a> {
    Owner(OwnerGuard<'a>),
    Wait(Waiter),
}

/// The right to compute one key; dropping it frees the key and wakes its waiters.
pub(crate) struct OwnerGuard<'a> {
    inflight: &'a InFlight,
    key: Digest,
    slot: Arc<Slot>,
}

pub(crate) struct Waiter {
    slot: Arc<Slot>,
}

impl InFlight {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<Digest, Arc<Slot>>> {
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Claims `key` for computing, or returns the slot of the caller computing it now.
    ///
    /// Panics if this thread is computing `key` already: a cached function that calls itself
    /// with the same arguments would otherwise wait for itself forever.
    pub fn claim(&self, key: Digest, name: &str) -> Claim<'_> {
        let mut slots = self.slots();
        if let Some(slot) = slots.get(&key) {
            if slot.owner == std::thread::current().id() {
                drop(slots);
                panic!("cellar: `{name}` called itself with the same arguments while computing them (infinite recursion)");
            }
            return Claim::Wait(Waiter { slot: slot.clone() });
        }
        let slot = Arc::new(Slot {
            owner: std::thread::current().id(),
            done: Mutex::new(false),
            finished: Condvar::new(),
        });
        slots.insert(key, slot.clone());
        Claim::Owner(OwnerGuard {
            inflight: self,
            key,
            slot,
        })
    }
}

impl Waiter {
    /// Blocks until the owner's computation returned or panicked.
    pub fn wait(self) {
        let mut done = self
            .slot
            .done
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        while !*done {
            done = self
                .slot
                .finished
                .wait(done)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }
}

impl Drop for OwnerGuard<'_> {
    fn drop(&mut self) {
        self.inflight.slots().remove(&self.key);
        *self
            .slot
            .done
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = true;
        self.slot.finished.notify_all();
    }
}
