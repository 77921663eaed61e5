//! Streamlit-style caching for Rust notebooks (and plain Rust programs).
//!
//! ```
//! use cellar::{cache_data, cache_resource};
//! use std::sync::Arc;
//!
//! #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! struct Frame { rows: Vec<f64> }
//!
//! struct Conn { url: String }
//!
//! #[cache_data(ttl = "1h", max_entries = 100, show_spinner = "Loading rides…")]
//! fn load(url: &str, rows: usize) -> Frame {
//!     Frame { rows: vec![url.len() as f64; rows] }
//! }
//!
//! #[cache_resource(on_release = |c: &Conn| println!("closing {}", c.url))]
//! fn connect(_pool_size: usize, url: &str) -> Conn {
//!     Conn { url: url.to_string() }
//! }
//!
//! let df = load("https://example.com/rides.csv", 10); // cellar::Data<Frame>: derefs to &Frame
//! assert_eq!(df.rows.len(), 10);
//! let again = load("https://example.com/rides.csv", 10); // a hit: the same stored value
//! assert!(cellar::Data::ptr_eq(&df, &again));
//!
//! let a: Arc<Conn> = connect(4, "db://rides");
//! let b = connect(8, "db://rides"); // `_pool_size` is not part of the key
//! assert!(Arc::ptr_eq(&a, &b));
//!
//! load::clear("https://example.com/rides.csv", 10); // one entry
//! load::clear_all(); // every entry of `load`
//! cellar::cache_data::clear(); // every cache_data cache; likewise cellar::cache_resource::clear()
//! ```
//!
//! # What the attributes do
//! - `#[cache_data]` (alias `#[memo]`) returns [`Data<T>`], a copy-on-write handle to the stored
//!   value: a hit costs the same whatever the value's size, and mutating your copy never
//!   changes the cache. `T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static`.
//! - `#[cache_resource]` (alias `#[singleton]`) returns `Arc<T>`, the one shared instance
//!   (connections, models, pools). `T: Send + Sync + 'static`.
//!
//! The key is blake3 of the function's source text and name and of its arguments' names and
//! values ([`CacheHash`]); arguments named with a leading `_` are left out. Editing the function
//! starts a new cache; re-running the same code hits. Concurrent calls with one key run the body
//! once; a body that panics stores nothing and the next call runs it again.
//!
//! An argument that can't be hashed is a compile error that says what to do (prefix its name
//! with `_`, or give it a hasher):
//!
//! ```compile_fail
//! struct Conn;
//!
//! #[cellar::cache_data]
//! fn query(conn: &Conn, sql: &str) -> u32 { 1 } // cannot hash `Conn`, an argument of a cached function
//! # fn main() {}
//! ```
//!
//! # Options
//! `ttl` (seconds, a `Duration`, or text such as `"90s"`, `"1h23m"`, `"1.5 days"`),
//! `max_entries` (least-recently-used eviction), `show_spinner` (`true`, `false` or the text)
//! and `show_time`, `scope = "session"` (entries belong to one client connection of the kernel;
//! outside a kernel this is the same as `"global"`), `validate = |v: &T| -> bool` (runs on every
//! hit; `false` recomputes), `on_release = |v: &T|` (runs once for every entry that leaves the
//! cache: eviction, expiry, failed validation, any clear, session end, shutdown),
//! `persist = "disk"` (see below), and per-argument hashers:
//! `hash(conn = |c: &Conn| c.url.clone())`.
//!
//! Beside each cached function the attribute generates a braced struct of the same name whose
//! associated functions are `clear(args…)` and `clear_all()`. A function lives in the value
//! namespace and a braced struct in the type namespace, so `load(…)` and `load::clear(…)`
//! coexist. Methods (`&self` receivers) can be cached too, without these controls; the receiver
//! is not part of the key unless it gets a hasher, `hash(self = |s: &Self| s.id)`, but its type
//! is. Associated functions without a receiver can't be cached (a struct can't be declared
//! inside an `impl`): write a free function.
//!
//! # On disk
//! `cache_data` values are serializable, so they can outlive the process. In a kernel, every
//! `cache_data` entry is also copied to the kernel's store as it is computed: when the process
//! that runs cells dies (abort, segfault, a kill after an interrupt), re-running the cells hits.
//! With `persist = "disk"` entries go to a cache folder instead, kept across kernels and runs:
//! `$CELLAR_CACHE_DIR`, else `.cellar-cache` in the working directory (a notebook's folder). Files
//! are content-addressed and checked with blake3 on every read (a damaged file is a miss, removed
//! and recomputed), written under a temporary name and renamed (kernels may share the folder),
//! trimmed least recently used first past `$CELLAR_CACHE_LIMIT` (default 4 GiB), and hold the
//! replayed outputs too. `ttl` holds on disk; every clear removes this machine's files.
//! `cache_resource` entries are live objects and are never written: they are rebuilt.
//!
//! # Across machines
//! In a kernel started with `CELLAR_CACHE_URL=s3://BUCKET/PREFIX` (and the standard `AWS_*`
//! variables), `persist = "disk"` entries also live in S3-compatible object storage: a miss in
//! the cache folder reads the bucket and copies a hit into the folder, and a computed entry is
//! written to both before the cell's reply. With `CELLAR_CACHE_KEY` set, entries are signed and
//! an unsigned or mis-signed one is rejected with a warning. A failing remote costs one warning;
//! the cell goes on with the cache folder. Eviction, ttl and `cache_data::clear()` leave the
//! bucket alone; `f::clear(args)` and `f::clear_all()` reach it.
//!
//! # In a notebook
//! Everything a cached function printed while it computed (stdout, stderr and [`display`]
//! outputs) is printed again on every hit, and a miss shows a spinner. See [`display`] for rich
//! output mid-cell.

extern crate self as cellar;

mod control;
mod data;
pub mod display;
pub mod env;
mod hash;
mod input;
pub mod policy;
pub mod protocol;
mod replay;
mod report;
pub mod session;
mod spinner;
mod store;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use cellar_macros::{cache_data, cache_resource, memo, singleton, CacheHash};
pub use data::Data;
pub use hash::{CacheHash, Digest, KeyHasher};
pub use input::{input, password};
pub use policy::ttl::Ttl;
pub use store::spec::{CacheKind, Scope};
pub use store::stats::CacheStats;

/// serde, for generated code and for deriving `Serialize`/`Deserialize` on cached values.
pub use serde;

/// Controls of every `#[cache_data]` cache.
pub mod cache_data {
    /// Removes every entry of every `#[cache_data]` function (all sessions); each entry's
    /// `on_release` runs. Returns how many entries were removed.
    pub fn clear() -> usize {
        crate::__private::clear_kind(crate::CacheKind::Data)
    }
}

/// Controls of every `#[cache_resource]` cache.
pub mod cache_resource {
    /// Removes every entry of every `#[cache_resource]` function (all sessions); each entry's
    /// `on_release` runs. Returns how many entries were removed.
    pub fn clear() -> usize {
        crate::__private::clear_kind(crate::CacheKind::Resource)
    }
}

/// Identity macro: generated code wraps the controls of a cached function in it, so the
/// notebook engine (which tracks top-level items by name) keeps them attached to the function
/// instead of letting an item named `load` (the controls' struct) replace `fn load`.
#[doc(hidden)]
#[macro_export]
macro_rules! __cellar_item {
    ($($item:tt)*) => { $($item)* };
}
