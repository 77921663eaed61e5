//! The caches: where values live between calls, and the rules they live by.
//!
//! - [`spec`]: what the macro tells the store about a function (key, options, callbacks), and
//!   the store's view of it whatever its value type;
//! - `value`: a stored value whatever its type, and the few shims a cell compiles per type;
//! - `registry`: every function's cache in one process-wide map;
//! - `cache`: one function's entries (LRU order, ttl, stats);
//! - `inflight`: compute once per key;
//! - `call`: one cached call from lookup to return (hit, validate, miss, spinner, replay);
//! - [`storage`]: `cache_data` entries outside memory, tier by tier (crash survival,
//!   `persist = "disk"`, the remote tier).
//!
//! Only `spec`'s view and `value`'s shims are generic over the value type: a cell that calls a
//! cached function compiles those for its type, and nothing else of the store.

mod cache;
mod call;
mod inflight;
pub(crate) mod registry;
pub mod spec;
pub mod stats;
pub(crate) mod storage;
mod value;

pub(crate) use call::{clear_all_of, clear_one, get_or_compute};
pub(crate) use value::{downcast, erase_body, DataOps};
