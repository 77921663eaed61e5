//! `serde` as notebook cells name it: every item of the real crate, derives included.
//!
//! Cells depend on this crate under the name `serde`, so `#[derive(serde::Serialize)]`,
//! `use serde::Deserialize` and the `extern crate serde` the derives expand to all find serde
//! through the re-export below. It exists for the rust-analyzer that types the cells' variables:
//! it is told that this crate has no dependencies (see its manifest), so it never collects the
//! thousands of trait impls serde writes with macros. A cell that adds `serde` itself (`:dep`)
//! replaces this crate with the real one.

#[doc(inline)]
pub use serde::*;
