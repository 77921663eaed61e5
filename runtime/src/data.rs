//! [`Data`], what a `#[cache_data]` function returns: a copy-on-write handle to the cached value.
//!
//! Streamlit gives every caller its own copy by unpickling the stored bytes on each hit, which
//! costs as much as the value is large. Rust can do better: a hit hands out one more reference to
//! the stored value, and the copy is made only if and when the caller mutates it. So a hit costs
//! the same for 8 bytes or 8 GB, mutating costs exactly one clone, and the stored value never
//! changes.

use serde::{Serialize, Serializer};
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// A copy-on-write handle to a cached value: behaves as your own copy of a `T`.
///
/// It derefs to `&T`; the first mutation through `DerefMut` clones the value if anything else
/// (the cache, another caller) still shares it; [`Data::into_owned`] gives a `T`, moving it when
/// nothing else shares it. Cloning a `Data` is cheap (one reference count). `Debug`, `Display`,
/// comparisons, hashing and `Serialize` are those of `T`.
///
/// ```
/// use cellar::Data;
/// let cached = Data::new(vec![1, 2, 3]);
/// let mut mine = cached.clone();        // cheap: both share one vector
/// mine.push(4);                         // the first mutation copies
/// assert_eq!(*cached, [1, 2, 3]);
/// assert_eq!(*mine, [1, 2, 3, 4]);
/// ```
pub struct Data<T> {
    inner: Arc<T>,
}

impl<T> Data<T> {
    /// A handle owning a new value.
    pub fn new(value: T) -> Self {
        Data {
            inner: Arc::new(value),
        }
    }

    /// A handle sharing a stored value (what a cache hit returns).
    pub fn from_arc(inner: Arc<T>) -> Self {
        Data { inner }
    }

    /// Whether two handles share one value (no copy has been made between them).
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }
}

impl<T: Clone> Data<T> {
    /// The value as a `T`: moved out when this handle is its only owner, cloned otherwise.
    pub fn into_owned(self) -> T {
        Arc::try_unwrap(self.inner).unwrap_or_else(|shared| T::clone(&shared))
    }
}

impl<T> Deref for Data<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

/// The first mutation of a shared value clones it (`Arc::make_mut`); later ones are free.
impl<T: Clone> DerefMut for Data<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        Arc::make_mut(&mut self.inner)
    }
}

impl<T> Clone for Data<T> {
    #[inline]
    fn clone(&self) -> Self {
        Data {
            inner: self.inner.clone(),
        }
    }
}

impl<T> AsRef<T> for Data<T> {
    fn as_ref(&self) -> &T {
        &self.inner
    }
}

impl<T> Borrow<T> for Data<T> {
    fn borrow(&self) -> &T {
        &self.inner
    }
}

impl<T> From<T> for Data<T> {
    fn from(value: T) -> Self {
        Data::new(value)
    }
}

impl<T: Default> Default for Data<T> {
    fn default() -> Self {
        Data::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Data<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.inner, f)
    }
}

impl<T: fmt::Display> fmt::Display for Data<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.inner, f)
    }
}

impl<T: PartialEq> PartialEq for Data<T> {
    fn eq(&self, other: &Self) -> bool {
        *self.inner == *other.inner
    }
}

impl<T: Eq> Eq for Data<T> {}

impl<T: PartialOrd> PartialOrd for Data<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (*self.inner).partial_cmp(&*other.inner)
    }
}

impl<T: Ord> Ord for Data<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (*self.inner).cmp(&*other.inner)
    }
}

impl<T: Hash> Hash for Data<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (*self.inner).hash(state);
    }
}

impl<T: Serialize> Serialize for Data<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (*self.inner).serialize(serializer)
    }
}

/// A `Data` argument of another cached function hashes as its value.
impl<T: crate::CacheHash> crate::CacheHash for Data<T> {
    fn cache_hash(&self, h: &mut crate::KeyHasher) {
        (*self.inner).cache_hash(h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutating_one_handle_never_changes_another() {
        let stored = Arc::new(vec![1, 2, 3]);
        let mut a = Data::from_arc(stored.clone());
        let b = Data::from_arc(stored.clone());
        a.push(4);
        a[0] = 10;
        assert_eq!(*a, [10, 2, 3, 4]);
        assert_eq!(*b, [1, 2, 3]);
        assert_eq!(*stored, [1, 2, 3], "the stored value is immutable");
        assert!(!Data::ptr_eq(&a, &b));
    }

    #[test]
    fn into_owned_moves_when_unique_and_clones_when_shared() {
        let data = Data::new(vec![7u8; 1024]);
        let address = data.as_ptr();
        let owned = data.into_owned();
        assert_eq!(
            owned.as_ptr(),
            address,
            "a unique handle moves its value out"
        );

        let stored = Arc::new(vec![7u8; 1024]);
        let owned = Data::from_arc(stored.clone()).into_owned();
        assert_ne!(owned.as_ptr(), stored.as_ptr(), "a shared value is cloned");
        assert_eq!(owned, *stored);
    }

    #[test]
    fn clone_is_a_shared_reference_and_traits_are_transparent() {
        let a = Data::new(String::from("x"));
        let b = a.clone();
        assert!(Data::ptr_eq(&a, &b));
        assert_eq!(format!("{a:?} {a}"), "\"x\" x");
        assert_eq!(a, b);
        assert!(Data::new(1) < Data::new(2));
        assert_eq!(
            serde_json::to_string(&Data::new(vec![1, 2])).unwrap(),
            "[1,2]"
        );
        let as_ref: &String = a.as_ref();
        assert_eq!(as_ref, "x");
    }
}
