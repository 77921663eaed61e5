use super::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

fn key<T: CacheHash + ?Sized>(value: &T) -> Digest {
    digest_of(value)
}

#[test]
fn framing_separates_concatenations() {
    assert_ne!(key(&("ab", "c")), key(&("a", "bc")));
    assert_ne!(
        key(&vec![vec![1u8, 2], vec![3]]),
        key(&vec![vec![1u8], vec![2, 3]])
    );
    assert_ne!(key(&(Some(0u8), None::<u8>)), key(&(None::<u8>, Some(0u8))));
}

#[test]
fn floats_hash_by_bits() {
    assert_ne!(key(&1.0f64), key(&3.0f64));
    assert_ne!(key(&0.0f64), key(&-0.0f64));
    assert_eq!(key(&f64::NAN), key(&f64::NAN));
    assert_eq!(key(&2.5f64), key(&2.5f64));
}

#[test]
fn pointers_hash_as_their_target() {
    let owned = String::from("rides");
    assert_eq!(key(&owned), key("rides"));
    assert_eq!(key(&std::sync::Arc::<str>::from("rides")), key("rides"));
    assert_eq!(key(&Box::new(5u32)), key(&5u32));
    assert_eq!(key(&std::borrow::Cow::Borrowed("x")), key("x"));
}

#[test]
fn slice_fast_path_matches_element_by_element() {
    // The bulk path must feed exactly what one write per element would.
    let values = [1.5f64, -2.0, 1e300];
    let mut bulk = KeyHasher::new();
    values.as_slice().cache_hash(&mut bulk);
    let mut single = KeyHasher::new();
    single.write_len(values.len());
    for v in values {
        single.write_f64(v);
    }
    assert_eq!(bulk.finish(), single.finish());

    let sizes = [1usize, 2, 3];
    let mut bulk = KeyHasher::new();
    sizes.as_slice().cache_hash(&mut bulk);
    let mut single = KeyHasher::new();
    single.write_len(3);
    sizes.iter().for_each(|s| single.write_u64(*s as u64));
    assert_eq!(bulk.finish(), single.finish());
}

#[test]
fn a_large_vector_is_hashed_in_full() {
    // No sampling: changing one element in the middle changes the key.
    let mut values = vec![0.0f64; 1_000_000];
    let before = key(&values);
    values[654_321] = 1.0;
    assert_ne!(before, key(&values));
}

#[test]
fn hash_maps_are_order_independent() {
    let a: HashMap<String, i32> = (0..100).map(|i| (i.to_string(), i)).collect();
    let mut b: HashMap<String, i32> = HashMap::with_capacity(1000);
    for i in (0..100).rev() {
        b.insert(i.to_string(), i);
    }
    assert_eq!(key(&a), key(&b));
    b.insert("7".into(), 8);
    assert_ne!(key(&a), key(&b));

    let s1: HashSet<u32> = [1, 2, 3].into();
    let s2: HashSet<u32> = [3, 2, 1].into();
    assert_eq!(key(&s1), key(&s2));
    let ordered: BTreeMap<&str, u8> = [("a", 1), ("b", 2)].into();
    assert_ne!(key(&ordered), key(&BTreeMap::from([("a", 2u8), ("b", 1)])));
}

#[test]
fn std_values_hash_their_content() {
    assert_ne!(key(&PathBuf::from("a.csv")), key(&PathBuf::from("b.csv")));
    assert_eq!(
        key(&PathBuf::from("a.csv")),
        key(std::path::Path::new("a.csv"))
    );
    assert_ne!(
        key(&Duration::from_millis(1)),
        key(&Duration::from_millis(2))
    );
    assert_ne!(key(&(0..3)), key(&(0..4)));
    assert_ne!(key(&Ok::<u8, u8>(1)), key(&Err::<u8, u8>(1)));
    assert_ne!(key(&'a'), key(&'b'));
    assert_ne!(key(&[1u16, 2]), key(&[2u16, 1]));
    assert_eq!(key(&()), KeyHasher::new().finish());
}
