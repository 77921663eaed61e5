//! Cache policies that come from the attribute's options.
//!
//! Only `ttl` needs code of its own (it accepts numbers, durations and text); `max_entries`,
//! `validate` and `on_release` are applied by the store.

pub mod ttl;
