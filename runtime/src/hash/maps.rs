//! [`CacheHash`] for maps and sets.
//!
//! A `HashMap`'s iteration order is random per process, so hashing its entries in order would
//! make the same map a different key on every run. Each entry is hashed into its own digest, the
//! digests are sorted, and the sorted list is fed: the key depends on the content only. B-tree
//! maps and sets iterate in key order already and are fed directly.

use super::{digest_of, CacheHash, KeyHasher};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

fn unordered<'a, T: CacheHash + ?Sized + 'a>(
    len: usize,
    items: impl Iterator<Item = &'a T>,
    h: &mut KeyHasher,
) {
    let mut digests: Vec<_> = items.map(digest_of).collect();
    digests.sort_unstable();
    h.write_len(len);
    for digest in &digests {
        h.write_raw(digest);
    }
}

impl<K: CacheHash, V: CacheHash, S> CacheHash for HashMap<K, V, S> {
    fn cache_hash(&self, h: &mut KeyHasher) {
        // `(&K, &V)` hashes as `(K, V)`, so each entry's digest is that of the pair.
        let pairs: Vec<(&K, &V)> = self.iter().collect();
        unordered(self.len(), pairs.iter(), h);
    }
}

impl<T: CacheHash, S> CacheHash for HashSet<T, S> {
    fn cache_hash(&self, h: &mut KeyHasher) {
        unordered(self.len(), self.iter(), h);
    }
}

impl<K: CacheHash, V: CacheHash> CacheHash for BTreeMap<K, V> {
    fn cache_hash(&self, h: &mut KeyHasher) {
        h.write_len(self.len());
        for (key, value) in self {
            key.cache_hash(h);
            value.cache_hash(h);
        }
    }
}

impl<T: CacheHash> CacheHash for BTreeSet<T> {
    fn cache_hash(&self, h: &mut KeyHasher) {
        h.write_len(self.len());
        for item in self {
            item.cache_hash(h);
        }
    }
}
