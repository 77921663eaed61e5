//! What the kernel's `:cellar` command shows about each cache.

use super::spec::{CacheKind, Scope};
use serde::Serialize;
use std::time::Duration;

/// The counters of one cache (one function, or one function in one session).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CacheStats {
    pub name: &'static str,
    #[serde(serialize_with = "kind_name")]
    pub kind: CacheKind,
    #[serde(serialize_with = "scope_name")]
    pub scope: Scope,
    /// The client session owning a session-scoped cache.
    pub session: Option<String>,
    pub entries: usize,
    /// For `cache_data`: the stored bytes, as the length of each value's compact binary
    /// serialization (heap included: a `Vec`'s buffer counts), computed when the stats are
    /// asked for. `None` for resources, which need not be serializable.
    pub bytes: Option<usize>,
    /// For `cache_data` with a folder on disk: the bytes of the function's entry files there.
    pub disk_bytes: Option<u64>,
    pub hits: u64,
    pub misses: u64,
    /// How long the last miss took to compute.
    pub last_compute: Option<Duration>,
}

fn kind_name<S: serde::Serializer>(kind: &CacheKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.name())
}

fn scope_name<S: serde::Serializer>(scope: &Scope, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match scope {
        Scope::Global => "global",
        Scope::Session => "session",
    })
}
