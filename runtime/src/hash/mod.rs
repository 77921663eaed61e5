//! Argument hashing: how the value half of a cache key is computed.
//!
//! A cache key is the function key (blake3 of the function's source, computed when the macro
//! expands) plus a value key: blake3 over the names and values of the hashed arguments. Values
//! reach the hasher through [`CacheHash`], implemented for std types here and derivable for your
//! own (`#[derive(CacheHash)]`). Unlike [`std::hash::Hash`] it must be stable across processes
//! (no random seeds), it must not collide on framing (`("ab", "c")` and `("a", "bc")` differ:
//! every variable-length value is length-prefixed), and it must be fast on big values: slices of
//! numbers are fed to blake3 as one block of little-endian bytes, so a large `Vec<f64>` hashes at
//! blake3's full single-core speed, without sampling (sampling is how Streamlit collides).

mod impls;
mod maps;

/// A 32-byte blake3 digest: function keys and value keys.
pub type Digest = [u8; 32];

/// The hasher every cache key goes through: a [`blake3::Hasher`] with framing helpers.
///
/// Fixed-size values are written as little-endian bytes; variable-size ones are preceded by their
/// length, so no two different sequences of writes produce the same byte stream.
#[derive(Default, Clone)]
pub struct KeyHasher {
    inner: blake3::Hasher,
}

impl KeyHasher {
    /// A hasher with nothing written.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes bytes as they are, with no length prefix: only for fixed-size data, or for the body
    /// of a value whose length was already written.
    #[inline]
    pub fn write_raw(&mut self, bytes: &[u8]) {
        self.inner.update(bytes);
    }

    /// Writes a length (as a `u64`, so keys do not depend on the pointer width).
    #[inline]
    pub fn write_len(&mut self, len: usize) {
        self.write_u64(len as u64);
    }

    /// Writes a byte string with its length in front.
    #[inline]
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        self.write_len(bytes.len());
        self.write_raw(bytes);
    }

    /// Writes a string with its length in front.
    #[inline]
    pub fn write_str(&mut self, s: &str) {
        self.write_bytes(s.as_bytes());
    }

    /// Writes a one-byte tag: enum variants, `Option`/`Result` discriminants.
    #[inline]
    pub fn write_tag(&mut self, tag: u8) {
        self.write_raw(&[tag]);
    }

    /// The digest of everything written so far (the hasher can go on being written to).
    pub fn finish(&self) -> Digest {
        *self.inner.finalize().as_bytes()
    }
}

macro_rules! write_int {
    ($($name:ident: $ty:ty),* $(,)?) => {
        impl KeyHasher {
            $(
                #[doc = concat!("Writes a `", stringify!($ty), "` as little-endian bytes.")]
                #[inline]
                pub fn $name(&mut self, value: $ty) {
                    self.write_raw(&value.to_le_bytes());
                }
            )*
        }
    };
}

write_int! {
    write_u8: u8, write_u16: u16, write_u32: u32, write_u64: u64, write_u128: u128,
    write_i8: i8, write_i16: i16, write_i32: i32, write_i64: i64, write_i128: i128,
}

impl KeyHasher {
    /// Writes a `usize` as a `u64`, so keys do not depend on the pointer width.
    #[inline]
    pub fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    /// Writes an `isize` as an `i64`.
    #[inline]
    pub fn write_isize(&mut self, value: isize) {
        self.write_i64(value as i64);
    }

    /// Writes a `bool` as one byte.
    #[inline]
    pub fn write_bool(&mut self, value: bool) {
        self.write_tag(value as u8);
    }

    /// Writes an `f32` by its bits: `-0.0` and `0.0` differ, a NaN equals the same NaN.
    #[inline]
    pub fn write_f32(&mut self, value: f32) {
        self.write_u32(value.to_bits());
    }

    /// Writes an `f64` by its bits: `-0.0` and `0.0` differ, a NaN equals the same NaN.
    #[inline]
    pub fn write_f64(&mut self, value: f64) {
        self.write_u64(value.to_bits());
    }
}

/// A value that can be part of a cache key.
///
/// Implemented for std types (integers, floats by bits, strings, slices, `Vec`, arrays, tuples,
/// `Option`, `Result`, maps and sets — hash maps order-independently —, paths, durations, …);
/// `#[derive(CacheHash)]` implements it for your structs and enums. An argument whose type does
/// not implement it can be left out of the key by naming it with a leading `_`, or given its own
/// hasher: `#[cache_data(hash(conn = |c: &Conn| c.url().to_string()))]`.
#[diagnostic::on_unimplemented(
    message = "cannot hash `{Self}`, an argument of a cached function",
    label = "`{Self}` does not implement `cellar::CacheHash`, so it can't be part of the cache key",
    note = "prefix the argument's name with `_` to leave it out of the cache key, or give it a hasher: #[cache_data(hash(arg = |v: &T| ...))]",
    note = "for your own types, `#[derive(cellar::CacheHash)]`"
)]
pub trait CacheHash {
    /// Feeds this value to the hasher.
    fn cache_hash(&self, h: &mut KeyHasher);

    /// Feeds a slice of values (its length was already written). Numeric types override this to
    /// write the whole slice as one block of bytes.
    fn hash_slice(items: &[Self], h: &mut KeyHasher)
    where
        Self: Sized,
    {
        for item in items {
            item.cache_hash(h);
        }
    }
}

/// The digest of one value, alone: what maps and sets sort to be order-independent.
pub(crate) fn digest_of<T: CacheHash + ?Sized>(value: &T) -> Digest {
    let mut h = KeyHasher::new();
    value.cache_hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests;
