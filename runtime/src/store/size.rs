//! The size of a `cache_data` value for the stats: the length of its compact binary
//! serialization (fixed-width numbers, length-prefixed strings and sequences), counted without
//! writing anything.
//!
//! `size_of_val` would say 24 bytes for a `Vec` of a gigabyte. Counting walks the whole value, so
//! it is done when the stats are asked for (the kernel's `:cellar`), never on a cached call.

use serde::ser::{self, Serialize};
use std::fmt;

/// The serialized size of `value`, or `size_of_val` if it refuses to serialize.
pub(crate) fn serialized_size<T: Serialize>(value: &T) -> usize {
    let mut counter = Counter(0);
    match value.serialize(&mut counter) {
        Ok(()) => counter.0,
        Err(_) => std::mem::size_of_val(value),
    }
}

struct Counter(usize);

#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not serializable")
    }
}

impl std::error::Error for Refused {}

impl ser::Error for Refused {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Refused
    }
}

const LEN: usize = 8;
const TAG: usize = 4;

macro_rules! fixed {
    ($($method:ident: $ty:ty),* $(,)?) => {$(
        fn $method(self, _: $ty) -> Result<(), Refused> {
            self.0 += std::mem::size_of::<$ty>();
            Ok(())
        }
    )*};
}

impl ser::Serializer for &mut Counter {
    type Ok = ();
    type Error = Refused;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fixed! {
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64,
        serialize_u128: u128, serialize_f32: f32, serialize_f64: f64,
    }

    fn serialize_char(self, c: char) -> Result<(), Refused> {
        self.0 += c.len_utf8();
        Ok(())
    }

    fn serialize_str(self, s: &str) -> Result<(), Refused> {
        self.0 += LEN + s.len();
        Ok(())
    }

    fn serialize_bytes(self, bytes: &[u8]) -> Result<(), Refused> {
        self.0 += LEN + bytes.len();
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Refused> {
        self.0 += 1;
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Refused> {
        self.0 += 1;
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Refused> {
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Refused> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), Refused> {
        self.0 += TAG;
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), Refused> {
        self.0 += TAG;
        value.serialize(self)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Refused> {
        self.0 += LEN;
        Ok(self)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self, Refused> {
        Ok(self)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Refused> {
        Ok(self)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Refused> {
        self.0 += TAG;
        Ok(self)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self, Refused> {
        self.0 += LEN;
        Ok(self)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Refused> {
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Refused> {
        self.0 += TAG;
        Ok(self)
    }
}

macro_rules! compound {
    ($($trait:ident :: $method:ident),* $(,)?) => {$(
        impl<'a> ser::$trait for &'a mut Counter {
            type Ok = ();
            type Error = Refused;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
                value.serialize(&mut **self)
            }

            fn end(self) -> Result<(), Refused> {
                Ok(())
            }
        }
    )*};
}

compound! {
    SerializeSeq::serialize_element, SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field, SerializeTupleVariant::serialize_field,
}

impl ser::SerializeMap for &mut Counter {
    type Ok = ();
    type Error = Refused;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Refused> {
        key.serialize(&mut **self)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refused> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<(), Refused> {
        Ok(())
    }
}

macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl<'a> ser::$trait for &'a mut Counter {
            type Ok = ();
            type Error = Refused;

            fn serialize_field<T: Serialize + ?Sized>(&mut self, _: &'static str, value: &T) -> Result<(), Refused> {
                value.serialize(&mut **self)
            }

            fn end(self) -> Result<(), Refused> {
                Ok(())
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Table {
        name: String,
        cols: Vec<Vec<f64>>,
        flag: Option<u8>,
    }

    #[test]
    fn counts_the_heap_a_value_owns() {
        let table = Table {
            name: "rides".into(),
            cols: vec![vec![0.0; 1000]; 4],
            flag: Some(1),
        };
        // name: 8 + 5; cols: 8 + 4 × (8 + 8000); flag: 1 + 1
        assert_eq!(serialized_size(&table), 13 + 8 + 4 * 8008 + 2);
        assert_eq!(serialized_size(&[1u32, 2, 3]), 12);
        assert_eq!(
            serialized_size(&std::collections::BTreeMap::from([(1u8, "a")])),
            8 + 1 + 9
        );
    }
}
