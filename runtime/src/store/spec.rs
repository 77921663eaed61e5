//! [`FnSpec`]: what the macro knows about one cached function, as a `static` beside it.

use crate::hash::Digest;
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
