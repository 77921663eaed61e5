//! One stored entry as bytes: a fixed header, then the body (the replay record and the value,
//! postcard). Every tier keeps these bytes as they are, so a file in the cache folder and an
//! object in the remote tier are the same.
//!
//! ```text
//! 0..8    magic "cellar\x02\n"
//! 8..16   stored at, milliseconds since the Unix epoch (u64 LE)
//! 16..24  body length (u64 LE)
//! 24..56  checksum: blake3 of bytes 8..24 and of the body's blake3
//! 56..88  signature: the checksum under keyed blake3 with CELLAR_CACHE_KEY, or zeros
//! 88..    body
//! ```
//!
//! Opening checks the magic, the length and the checksum before decoding, so a truncated or
//! damaged entry is an error, never a value; with a signing key ([`super::signing`]) it also
//! requires the signature, so whoever can write a shared bucket cannot put values into a
//! notebook.

use super::signing::SigningKey;
use crate::replay::{Chunk, Record, Stream};
use crate::store::value::Value;
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MAGIC: &[u8; 8] = b"cellar\x02\n";
const FIELDS: std::ops::Range<usize> = 8..24;
const CHECKSUM: std::ops::Range<usize> = 24..56;
const SIGNATURE: std::ops::Range<usize> = 56..88;
const HEADER: usize = 88;

/// Turns a value into bytes and back (postcard, through the value's serde impls; see
/// `store::value`): the only part of the format that knows the value's type.
#[derive(Clone, Copy)]
pub(crate) struct Codec {
    pub encode: fn(&dyn Any, &mut dyn Write) -> Result<(), String>,
    pub decode: fn(&[u8]) -> Result<Value, String>,
}

/// An entry as it is stored and as it is read back.
pub(crate) struct StoredEntry {
    pub value: Value,
    pub record: Record,
    pub stored_at: SystemTime,
}

impl StoredEntry {
    /// How long ago it was computed.
    pub fn age(&self) -> Duration {
        age_of(self.stored_at)
    }
}

/// How long ago `stored_at` was (zero for a time in the future: another machine's clock).
pub(crate) fn age_of(stored_at: SystemTime) -> Duration {
    SystemTime::now()
        .duration_since(stored_at)
        .unwrap_or_default()
}

/// Why stored bytes are not taken as an entry.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Rejected {
    #[error("it was written by another version of cellar")]
    OtherVersion,
    #[error("it is damaged: {0}")]
    Damaged(String),
    #[error("it is not signed, and CELLAR_CACHE_KEY is set")]
    Unsigned,
    #[error("its signature does not match CELLAR_CACHE_KEY")]
    WrongSignature,
}

/// A replay chunk as it is written: stream 1 or 2, then the bytes.
#[derive(Serialize, Deserialize)]
struct StoredChunk {
    fd: u8,
    bytes: Vec<u8>,
}

/// The bytes of `entry`, signed with `key` when there is one.
pub(crate) fn seal(
    entry: &StoredEntry,
    codec: Codec,
    key: Option<&SigningKey>,
) -> Result<Vec<u8>, String> {
    let mut bytes = vec![0; HEADER];
    let chunks: Vec<StoredChunk> = entry
        .record
        .iter()
        .flat_map(|chunks| chunks.iter())
        .map(|chunk| StoredChunk {
            fd: chunk.stream.fd() as u8,
            bytes: chunk.bytes.to_vec(),
        })
        .collect();
    postcard::to_io(&chunks, &mut bytes).map_err(|error| error.to_string())?;
    (codec.encode)(&*entry.value, &mut bytes)?;
    let body_len = (bytes.len() - HEADER) as u64;
    let millis = entry
        .stored_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    bytes[..8].copy_from_slice(MAGIC);
    bytes[8..16].copy_from_slice(&millis.to_le_bytes());
    bytes[16..24].copy_from_slice(&body_len.to_le_bytes());
    let checksum = checksum(&bytes);
    bytes[CHECKSUM].copy_from_slice(checksum.as_bytes());
    if let Some(key) = key {
        bytes[SIGNATURE].copy_from_slice(&key.sign(checksum.as_bytes()));
    }
    Ok(bytes)
}

/// Stored bytes whose header, length, checksum and signature hold: ready to decode.
pub(crate) struct Checked<'a> {
    pub stored_at: SystemTime,
    body: &'a [u8],
}

/// Checks the header, the length, the checksum and (with `key`) the signature of the entry in
/// `bytes`. Nothing of the body is decoded.
pub(crate) fn check<'a>(
    bytes: &'a [u8],
    key: Option<&SigningKey>,
) -> Result<Checked<'a>, Rejected> {
    if bytes.get(..MAGIC.len()).is_some_and(|magic| magic != MAGIC) {
        return Err(Rejected::OtherVersion);
    }
    if bytes.len() < HEADER {
        return Err(Rejected::Damaged("shorter than its header".into()));
    }
    let body_len = u64::from_le_bytes(bytes[16..24].try_into().unwrap());
    if bytes.len() as u64 != HEADER as u64 + body_len {
        return Err(Rejected::Damaged(format!(
            "{} bytes where the header says {}",
            bytes.len(),
            HEADER as u64 + body_len
        )));
    }
    let checksum = checksum(bytes);
    if checksum.as_bytes() != &bytes[CHECKSUM] {
        return Err(Rejected::Damaged(
            "its blake3 checksum does not match".into(),
        ));
    }
    if let Some(key) = key {
        let signature = &bytes[SIGNATURE];
        if signature.iter().all(|&b| b == 0) {
            return Err(Rejected::Unsigned);
        }
        if !key.verify(checksum.as_bytes(), signature) {
            return Err(Rejected::WrongSignature);
        }
    }
    let millis = u64::from_le_bytes(bytes[8..16].try_into().unwrap());
    Ok(Checked {
        stored_at: UNIX_EPOCH + Duration::from_millis(millis),
        body: &bytes[HEADER..],
    })
}

impl Checked<'_> {
    /// The entry, once its record and value decode.
    pub fn decode(self, codec: Codec) -> Result<StoredEntry, Rejected> {
        let (chunks, rest) =
            postcard::take_from_bytes::<Vec<StoredChunk>>(self.body).map_err(|error| {
                Rejected::Damaged(format!("its replay record does not decode: {error}"))
            })?;
        let value = (codec.decode)(rest)
            .map_err(|error| Rejected::Damaged(format!("its value does not decode: {error}")))?;
        let chunks: Vec<Chunk> = chunks
            .into_iter()
            .map(|chunk| Chunk {
                stream: if chunk.fd == 2 {
                    Stream::Stderr
                } else {
                    Stream::Stdout
                },
                bytes: chunk.bytes.into_boxed_slice(),
            })
            .collect();
        Ok(StoredEntry {
            value,
            record: (!chunks.is_empty()).then(|| chunks.into()),
            stored_at: self.stored_at,
        })
    }
}

/// The entry in `bytes`, checked and decoded.
#[cfg(test)]
fn open(bytes: &[u8], codec: Codec, key: Option<&SigningKey>) -> Result<StoredEntry, Rejected> {
    check(bytes, key)?.decode(codec)
}

/// blake3 over the header fields (time, length) and the body's blake3.
fn checksum(bytes: &[u8]) -> blake3::Hash {
    let mut outer = blake3::Hasher::new();
    outer.update(&bytes[FIELDS]);
    outer.update(blake3::hash(&bytes[HEADER..]).as_bytes());
    outer.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn codec() -> Codec {
        crate::store::value::DataOps::of::<Vec<f64>>().codec
    }

    fn sample(key: Option<&SigningKey>) -> Vec<u8> {
        let record: Record = Some(Arc::from(vec![
            Chunk {
                stream: Stream::Stdout,
                bytes: b"out\n"[..].into(),
            },
            Chunk {
                stream: Stream::Stderr,
                bytes: b"err\n"[..].into(),
            },
        ]));
        let entry = StoredEntry {
            value: Arc::new(vec![1.5, -2.0, f64::NAN]),
            record,
            stored_at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
        };
        seal(&entry, codec(), key).unwrap()
    }

    #[test]
    fn an_entry_opens_with_its_record_and_time() {
        let bytes = sample(None);
        let entry = open(&bytes, codec(), None).unwrap();
        let value: &Vec<f64> = entry.value.downcast_ref().unwrap();
        assert_eq!(value[..2], [1.5, -2.0]);
        assert!(value[2].is_nan());
        let record = entry.record.unwrap();
        assert_eq!(record[0].stream, Stream::Stdout);
        assert_eq!(&*record[1].bytes, b"err\n");
        let millis = entry
            .stored_at
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        assert_eq!(millis, 1_700_000_000_123);
        assert_eq!(check(&bytes, None).unwrap().stored_at, entry.stored_at);
    }

    #[test]
    fn truncated_and_flipped_entries_are_rejected() {
        let whole = sample(None);
        for cut in [0, 10, HEADER, whole.len() - 1] {
            let error = open(&whole[..cut], codec(), None)
                .err()
                .expect("a truncated entry is rejected");
            assert!(
                matches!(error, Rejected::Damaged(_)),
                "cut at {cut}: {error}"
            );
        }
        for at in [9, 20, 30, HEADER + 2, whole.len() - 1] {
            let mut flipped = whole.clone();
            flipped[at] ^= 0x40;
            let error = open(&flipped, codec(), None)
                .err()
                .expect("a flipped byte is rejected");
            assert!(
                matches!(error, Rejected::Damaged(_)),
                "flip at {at}: {error}"
            );
        }
        let mut old = whole.clone();
        old[6] = 1;
        assert_eq!(check(&old, None).err(), Some(Rejected::OtherVersion));
    }

    #[test]
    fn with_a_key_only_entries_signed_with_it_open() {
        let key = SigningKey::from_secret("team secret");
        let other = SigningKey::from_secret("another secret");
        let signed = sample(Some(&key));
        assert!(open(&signed, codec(), Some(&key)).is_ok());
        assert!(
            open(&signed, codec(), None).is_ok(),
            "integrity holds without a key"
        );
        assert_eq!(
            check(&sample(None), Some(&key)).err(),
            Some(Rejected::Unsigned)
        );
        assert_eq!(
            check(&sample(Some(&other)), Some(&key)).err(),
            Some(Rejected::WrongSignature)
        );
        // Rewriting the body and its checksum is not enough without the key.
        let mut forged = signed.clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        let checksum = checksum(&forged);
        forged[CHECKSUM].copy_from_slice(checksum.as_bytes());
        assert!(check(&forged, None).is_ok());
        assert_eq!(
            check(&forged, Some(&key)).err(),
            Some(Rejected::WrongSignature)
        );
    }
}
