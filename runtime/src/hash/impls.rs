//! [`CacheHash`] for std scalars, strings, pointers, sequences and other std values.
//!
//! Maps and sets live in `maps.rs`. Numeric slices override [`CacheHash::hash_slice`] to feed
//! their little-endian bytes in one `update`: that is what makes a `Vec<f64>` of a few hundred MB
//! hash at memory speed instead of one call per element.

use super::{CacheHash, KeyHasher};
use std::borrow::Cow;
use std::collections::{LinkedList, VecDeque};
use std::ffi::{OsStr, OsString};
use std::marker::PhantomData;
use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Views a slice of plain numbers as its bytes. Only for types with no padding and no invalid
/// bit patterns as bytes (integers, floats, `bool`, `char`), which is every caller below.
#[cfg(target_endian = "little")]
fn as_bytes<T: Copy>(items: &[T]) -> &[u8] {
    // SAFETY: T is a padding-free primitive; reading its bytes is always defined, the length is
    // the slice's size in bytes and the lifetime is the slice's.
    unsafe { std::slice::from_raw_parts(items.as_ptr().cast::<u8>(), std::mem::size_of_val(items)) }
}

macro_rules! numbers {
    ($($ty:ty => $write:ident),* $(,)?) => {$(
        impl CacheHash for $ty {
            #[inline]
            fn cache_hash(&self, h: &mut KeyHasher) {
                h.$write(*self);
            }

            fn hash_slice(items: &[Self], h: &mut KeyHasher) {
                #[cfg(target_endian = "little")]
                h.write_raw(as_bytes(items));
                #[cfg(not(target_endian = "little"))]
                for item in items {
                    h.$write(*item);
                }
            }
        }
    )*};
}

numbers! {
    u8 => write_u8, u16 => write_u16, u32 => write_u32, u64 => write_u64, u128 => write_u128,
    i8 => write_i8, i16 => write_i16, i32 => write_i32, i64 => write_i64, i128 => write_i128,
    f32 => write_f32, f64 => write_f64, bool => write_bool,
}

// usize/isize are written as 64-bit values so keys do not depend on the pointer width.
macro_rules! pointer_sized {
    ($($ty:ty => $write:ident, $wide:ty),* $(,)?) => {$(
        impl CacheHash for $ty {
            #[inline]
            fn cache_hash(&self, h: &mut KeyHasher) {
                h.$write(*self);
            }

            fn hash_slice(items: &[Self], h: &mut KeyHasher) {
                #[cfg(all(target_endian = "little", target_pointer_width = "64"))]
                h.write_raw(as_bytes(items));
                #[cfg(not(all(target_endian = "little", target_pointer_width = "64")))]
                for item in items {
                    h.write_raw(&(*item as $wide).to_le_bytes());
                }
            }
        }
    )*};
}

pointer_sized! { usize => write_usize, u64, isize => write_isize, i64 }

impl CacheHash for char {
    #[inline]
    fn cache_hash(&self, h: &mut KeyHasher) {
        h.write_u32(*self as u32);
    }

    fn hash_slice(items: &[Self], h: &mut KeyHasher) {
        #[cfg(target_endian = "little")]
        h.write_raw(as_bytes(items));
        #[cfg(not(target_endian = "little"))]
        for item in items {
            h.write_u32(*item as u32);
        }
    }
}

impl CacheHash for str {
    #[inline]
    fn cache_hash(&self, h: &mut KeyHasher) {
        h.write_str(self);
    }
}

impl CacheHash for String {
    #[inline]
    fn cache_hash(&self, h: &mut KeyHasher) {
        h.write_str(self);
    }
}

impl CacheHash for () {
    #[inline]
    fn cache_hash(&self, _: &mut KeyHasher) {}
}

impl<T: ?Sized> CacheHash for PhantomData<T> {
    #[inline]
    fn cache_hash(&self, _: &mut KeyHasher) {}
}

// Pointers and wrappers hash as what they point to: `&str`, `String` and `Arc<str>` agree.
macro_rules! through_pointer {
    ($($ptr:ident),*) => {$(
        impl<T: CacheHash + ?Sized> CacheHash for $ptr<T> {
            #[inline]
            fn cache_hash(&self, h: &mut KeyHasher) {
                (**self).cache_hash(h);
            }
        }
    )*};
}

through_pointer!(Box, Rc, Arc);

impl<T: CacheHash + ?Sized> CacheHash for &T {
    #[inline]
    fn cache_hash(&self, h: &mut KeyHasher) {
        (**self).cache_hash(h);
    }
}

impl<T: CacheHash + ?Sized> CacheHash for &mut T {
    #[inline]
    fn cache_hash(&self, h: &mut KeyHasher) {
        (**self).cache_hash(h);
    }
}

impl<B: CacheHash + ToOwned + ?Sized> CacheHash for Cow<'_, B> {
    #[inline]
    fn cache_hash(&self, h: &mut KeyHasher) {
        (**self).cache_hash(h);
    }
}

impl<T: CacheHash> CacheHash for [T] {
    #[inline]
    fn cache_hash(&self, h: &mut KeyHasher) {
        h.write_len(self.len());
        T::hash_slice(self, h);
    }
}

impl<T: CacheHash, const N: usize> CacheHash for [T; N] {
    #[inline]
    fn cache_hash(&self, h: &mut KeyHasher) {
        self.as_slice().cache_hash(h);
    }
}

impl<T: CacheHash> CacheHash for Vec<T> {
    #[inline]
    fn cache_hash(&self, h: &mut KeyHasher) {
        self.as_slice().cache_hash(h);
    }
}

impl<T: CacheHash> CacheHash for VecDeque<T> {
    fn cache_hash(&self, h: &mut KeyHasher) {
        h.write_len(self.len());
        let (front, back) = self.as_slices();
        T::hash_slice(front, h);
        T::hash_slice(back, h);
    }
}

impl<T: CacheHash> CacheHash for LinkedList<T> {
    fn cache_hash(&self, h: &mut KeyHasher) {
        h.write_len(self.len());
        self.iter().for_each(|item| item.cache_hash(h));
    }
}

impl<T: CacheHash> CacheHash for Option<T> {
    fn cache_hash(&self, h: &mut KeyHasher) {
        match self {
            None => h.write_tag(0),
            Some(value) => {
                h.write_tag(1);
                value.cache_hash(h);
            }
        }
    }
}

impl<T: CacheHash, E: CacheHash> CacheHash for Result<T, E> {
    fn cache_hash(&self, h: &mut KeyHasher) {
        match self {
            Ok(value) => {
                h.write_tag(0);
                value.cache_hash(h);
            }
            Err(error) => {
                h.write_tag(1);
                error.cache_hash(h);
            }
        }
    }
}

macro_rules! tuples {
    ($(($($name:ident),+))*) => {$(
        impl<$($name: CacheHash),+> CacheHash for ($($name,)+) {
            #[allow(non_snake_case)]
            fn cache_hash(&self, h: &mut KeyHasher) {
                let ($($name,)+) = self;
                $($name.cache_hash(h);)+
            }
        }
    )*};
}

tuples! {
    (A) (A, B) (A, B, C) (A, B, C, D) (A, B, C, D, E) (A, B, C, D, E, F) (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H) (A, B, C, D, E, F, G, H, I) (A, B, C, D, E, F, G, H, I, J)
    (A, B, C, D, E, F, G, H, I, J, K) (A, B, C, D, E, F, G, H, I, J, K, L)
}

impl<T: CacheHash> CacheHash for Range<T> {
    fn cache_hash(&self, h: &mut KeyHasher) {
        self.start.cache_hash(h);
        self.end.cache_hash(h);
    }
}

impl<T: CacheHash> CacheHash for RangeInclusive<T> {
    fn cache_hash(&self, h: &mut KeyHasher) {
        self.start().cache_hash(h);
        self.end().cache_hash(h);
    }
}

impl CacheHash for OsStr {
    fn cache_hash(&self, h: &mut KeyHasher) {
        #[cfg(unix)]
        h.write_bytes(std::os::unix::ffi::OsStrExt::as_bytes(self));
        #[cfg(not(unix))]
        h.write_bytes(self.as_encoded_bytes());
    }
}

impl CacheHash for OsString {
    #[inline]
    fn cache_hash(&self, h: &mut KeyHasher) {
        self.as_os_str().cache_hash(h);
    }
}

/// A path hashes as its text, not the file's content: `load("data.csv")` does not notice that
/// the file changed (hash its modification time too, with a custom hasher, if that matters).
impl CacheHash for Path {
    #[inline]
    fn cache_hash(&self, h: &mut KeyHasher) {
        self.as_os_str().cache_hash(h);
    }
}

impl CacheHash for PathBuf {
    #[inline]
    fn cache_hash(&self, h: &mut KeyHasher) {
        self.as_os_str().cache_hash(h);
    }
}

impl CacheHash for Duration {
    fn cache_hash(&self, h: &mut KeyHasher) {
        h.write_u64(self.as_secs());
        h.write_u32(self.subsec_nanos());
    }
}

impl CacheHash for SystemTime {
    fn cache_hash(&self, h: &mut KeyHasher) {
        match self.duration_since(UNIX_EPOCH) {
            Ok(after) => {
                h.write_tag(0);
                after.cache_hash(h);
            }
            Err(before) => {
                h.write_tag(1);
                before.duration().cache_hash(h);
            }
        }
    }
}
