//! [`Value`]: a stored value whatever its type, and the few shims that cross to and from it.
//!
//! Every cell that calls a cached function is compiled as its own crate, and whatever is
//! generic over the value type is compiled again in it. So the store is not generic: it keeps
//! `Arc<dyn Any + Send + Sync>` and is compiled once, into the runtime. The functions here are
//! the only code a cell instantiates per cached type (with the spec's view, see
//! [`super::spec::ErasedSpec`]): putting the body's value in an `Arc` and taking it out again,
//! and for `cache_data` the serialized size and the postcard encoding ([`DataOps`]). Each is a
//! few lines; the `Arc` is the one the caller gets back, so a hit still shares the stored value.

use super::storage::Codec;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::any::Any;
use std::io::Write;
use std::sync::Arc;

/// A stored value, shared by the cache and every caller it was handed to.
pub(crate) type Value = Arc<dyn Any + Send + Sync>;

/// What a `cache_data` value can do that a resource need not: be sized and written to disk.
#[derive(Clone, Copy)]
pub(crate) struct DataOps {
    /// The value's serialized size (postcard's own count), for the stats.
    pub size_of: fn(&dyn Any) -> usize,
    pub codec: Codec,
}

impl DataOps {
    /// The operations of a `T`: its serde impls, through postcard for the disk.
    pub fn of<T: Serialize + DeserializeOwned + Send + Sync + 'static>() -> DataOps {
        DataOps {
            size_of: |value| {
                let value = value_ref::<T>(value);
                let counted = postcard::serialize_with_flavor::<T, _, usize>(
                    value,
                    postcard::ser_flavors::Size::default(),
                );
                counted.unwrap_or(std::mem::size_of_val(value))
            },
            codec: Codec {
                encode: encode::<T>,
                decode: decode::<T>,
            },
        }
    }
}

fn encode<T: Serialize + 'static>(value: &dyn Any, out: &mut dyn Write) -> Result<(), String> {
    postcard::to_io(value_ref::<T>(value), out)
        .map(drop)
        .map_err(|e| e.to_string())
}

fn decode<T: DeserializeOwned + Send + Sync + 'static>(bytes: &[u8]) -> Result<Value, String> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((value, [])) => Ok(Arc::new(value)),
        Ok((_, rest)) => Err(format!("{} bytes left over", rest.len())),
        Err(error) => Err(error.to_string()),
    }
}

/// The body of a call, erased: the store takes it as `&mut dyn FnMut`, and runs it at most once.
pub(crate) fn erase_body<T: Send + Sync + 'static>(
    body: impl FnOnce() -> T,
) -> impl FnMut() -> Value {
    let mut body = Some(body);
    move || {
        let body = body.take().expect("cellar: a cached body runs once");
        Arc::new(body())
    }
}

/// The stored value as the caller's type. The registry gives a caller only a cache of its own
/// value type (see `registry`), so this never fails.
pub(crate) fn downcast<T: Send + Sync + 'static>(value: Value) -> Arc<T> {
    value
        .downcast::<T>()
        .unwrap_or_else(|_| unreachable!("cellar: a cache holds values of one type"))
}

/// A stored value, borrowed as its type (for the callbacks and the shims above).
pub(crate) fn value_ref<T: 'static>(value: &dyn Any) -> &T {
    value
        .downcast_ref::<T>()
        .expect("cellar: a cache holds values of one type")
}
