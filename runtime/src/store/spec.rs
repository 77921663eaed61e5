//! [`FnSpec`]: what the macro knows about one cached function, as a `static` beside it, and
//! [`ErasedSpec`], the store's view of it whatever its value type.

use super::value::value_ref;
use crate::hash::Digest;
use std::any::{Any, TypeId};
use std::time::Duration;

/// `cache_data` (a copy-on-write handle to a stored value) or `cache_resource` (the one shared
/// instance).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CacheKind {
    Data,
    Resource,
}

impl CacheKind {
    /// The attribute's name.
    pub fn name(self) -> &'static str {
        match self {
            CacheKind::Data => "cache_data",
            CacheKind::Resource => "cache_resource",
        }
    }
}

/// Who shares a function's entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every caller in the process.
    Global,
    /// One client connection of the kernel; outside a kernel this behaves as [`Scope::Global`].
    Session,
}

/// What a miss of the outermost cached call shows while the body runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spinner {
    Off,
    /// "Running `name(…)`…"
    Default,
    Text(&'static str),
}

/// Where entries are kept besides memory (beyond the kernel's own store, see `store::disk`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persist {
    Disk,
}

/// The options written in the attribute that do not depend on the value type.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Evaluated once when the function's cache is created, so `ttl` may be any expression.
    pub ttl: Option<fn() -> Duration>,
    pub max_entries: Option<usize>,
    pub spinner: Spinner,
    pub show_time: bool,
    /// `Disk`: entries go to the cache folder and outlive the kernel.
    pub persist: Option<Persist>,
    pub scope: Scope,
}

impl Options {
    /// No option given: what a bare `#[cache_data]` means.
    pub const DEFAULT: Options = Options {
        ttl: None,
        max_entries: None,
        spinner: Spinner::Default,
        show_time: false,
        persist: None,
        scope: Scope::Global,
    };
}

/// One cached function: its identity, its options and its callbacks.
///
/// `key` is blake3 of the function's name and source (and the definitions of the notebook types
/// it names, when the kernel expanded it): editing the function gives a new cache.
/// `options_key` covers the options that shape stored entries (kind, ttl, max_entries, scope,
/// persist, validate, on_release, hashers): when it differs from the cache registered under
/// `key`, that cache is released and replaced.
pub struct FnSpec<T: 'static> {
    pub name: &'static str,
    pub kind: CacheKind,
    pub key: Digest,
    pub options_key: Digest,
    pub options: Options,
    /// Runs on each hit; `false` discards the entry and recomputes.
    pub validate: Option<fn(&T) -> bool>,
    /// Runs once for each entry that leaves the cache, whatever the reason.
    pub on_release: Option<fn(&T)>,
}

/// A [`FnSpec`] as the store sees it, whatever its value type.
///
/// The store is compiled once, into the runtime (see `value`); a cell that calls a cached
/// function instantiates only this impl for its value type: field reads, and the two
/// callbacks behind a downcast.
pub(crate) trait ErasedSpec: Sync {
    fn name(&self) -> &'static str;
    fn kind(&self) -> CacheKind;
    fn key(&self) -> &Digest;
    fn options_key(&self) -> &Digest;
    fn options(&self) -> &Options;
    /// The value type: a cache holding another one (a notebook type redefined) is replaced.
    fn value_type(&self) -> TypeId;
    /// Its name, which tells the entry files of one type from another's.
    fn value_type_name(&self) -> &'static str;
    /// Runs `validate` on a value of this spec's type; `None` when there is none.
    fn validate(&self, value: &dyn Any) -> Option<bool>;
    /// Runs `on_release` on a value of this spec's type, if there is one.
    fn on_release(&self, value: &dyn Any);
}

impl<T: 'static> ErasedSpec for FnSpec<T> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn kind(&self) -> CacheKind {
        self.kind
    }

    fn key(&self) -> &Digest {
        &self.key
    }

    fn options_key(&self) -> &Digest {
        &self.options_key
    }

    fn options(&self) -> &Options {
        &self.options
    }

    fn value_type(&self) -> TypeId {
        TypeId::of::<T>()
    }

    fn value_type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }

    fn validate(&self, value: &dyn Any) -> Option<bool> {
        let validate = self.validate?;
        Some(validate(value_ref::<T>(value)))
    }

    fn on_release(&self, value: &dyn Any) {
        if let Some(on_release) = self.on_release {
            on_release(value_ref::<T>(value));
        }
    }
}
