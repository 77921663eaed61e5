//! One entry file: a fixed header, then the body (the replay record and the value, postcard).
//!
//! ```text
//! 0..8    magic "cellar\x01\n"
//! 8..16   stored at, milliseconds since the Unix epoch (u64 LE)
//! 16..24  body length (u64 LE)
//! 24..56  blake3 of bytes 8..24 and of the body
//! 56..    body
//! ```
//!
//! A file is written whole under a temporary name and renamed into place, so a reader sees an
//! old file or a new one, never half of one. Reading checks the magic, the length and the hash
//! before decoding: a truncated or damaged file is an error, never a value.

use crate::replay::{Chunk, Record, Stream};
use crate::store::value::Value;
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MAGIC: &[u8; 8] = b"cellar\x01\n";
const HEADER: usize = 56;

/// Turns a value into bytes and back (postcard, through the value's serde impls; see
/// `store::value`): the only part of the format that knows the value's type.
#[derive(Clone, Copy)]
pub(crate) struct Codec {
    pub encode: fn(&dyn Any, &mut dyn Write) -> Result<(), String>,
    pub decode: fn(&[u8]) -> Result<Value, String>,
}

/// What a read gives back.
pub(crate) struct Stored {
    pub value: Value,
    pub record: Record,
    pub stored_at: SystemTime,
}

/// A replay chunk as it is written: stream 1 or 2, then the bytes.
#[derive(Serialize, Deserialize)]
struct FileChunk {
    fd: u8,
    bytes: Vec<u8>,
}

/// Writes `value` and `record` to `path` (created or truncated); `sync` flushes it to the device.
pub(crate) fn write(
    path: &Path,
    value: &dyn Any,
    record: &Record,
    stored_at: SystemTime,
    codec: Codec,
    sync: bool,
) -> io::Result<u64> {
    let mut file = File::create(path)?;
    file.write_all(&[0; HEADER])?;
    let mut body = Hashing {
        inner: &mut file,
        hasher: blake3::Hasher::new(),
        len: 0,
    };
    {
        let mut out = BufWriter::with_capacity(1 << 20, &mut body);
        let chunks: Vec<FileChunk> = record
            .iter()
            .flat_map(|chunks| chunks.iter())
            .map(|chunk| FileChunk {
                fd: chunk.stream.fd() as u8,
                bytes: chunk.bytes.to_vec(),
            })
            .collect();
        postcard::to_io(&chunks, &mut out).map_err(io::Error::other)?;
        (codec.encode)(value, &mut out).map_err(io::Error::other)?;
        out.flush()?;
    }
    let (len, body_hash) = (body.len, body.hasher);
    let millis = stored_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&millis.to_le_bytes());
    header.extend_from_slice(&len.to_le_bytes());
    header.extend_from_slice(checksum(&header[8..24], body_hash).as_bytes());
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&header)?;
    if sync {
        file.sync_all()?;
    }
    Ok(HEADER as u64 + len)
}

/// How old the entry in `path` is, from its header alone (for ttl, before reading the body).
pub(crate) fn stored_at(path: &Path) -> io::Result<SystemTime> {
    let mut header = [0; HEADER];
    File::open(path)?.read_exact(&mut header)?;
    check_magic(&header)?;
    Ok(millis_to_time(&header))
}

/// Reads and checks the entry in `path`. `Err` with kind `NotFound` when there is none;
/// `InvalidData` when it is damaged.
pub(crate) fn read(path: &Path, codec: Codec) -> io::Result<Stored> {
    let mut file = File::open(path)?;
    let mut header = [0; HEADER];
    file.read_exact(&mut header)
        .map_err(|_| invalid("shorter than its header"))?;
    check_magic(&header)?;
    let len = u64::from_le_bytes(header[16..24].try_into().unwrap());
    let on_disk = file.metadata()?.len();
    if on_disk != HEADER as u64 + len {
        return Err(invalid(format!(
            "{on_disk} bytes where the header says {}",
            HEADER as u64 + len
        )));
    }
    let mut body = Vec::with_capacity(len as usize);
    file.read_to_end(&mut body)?;
    let mut hasher = blake3::Hasher::new();
    hasher.update(&body);
    if checksum(&header[8..24], hasher).as_bytes() != &header[24..56] {
        return Err(invalid("its blake3 checksum does not match"));
    }
    let (chunks, rest) = postcard::take_from_bytes::<Vec<FileChunk>>(&body)
        .map_err(|error| invalid(format!("its replay record does not decode: {error}")))?;
    let value = (codec.decode)(rest)
        .map_err(|error| invalid(format!("its value does not decode: {error}")))?;
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
    Ok(Stored {
        value,
        record: (!chunks.is_empty()).then(|| chunks.into()),
        stored_at: millis_to_time(&header),
    })
}

fn check_magic(header: &[u8; HEADER]) -> io::Result<()> {
    if &header[..8] == MAGIC {
        Ok(())
    } else {
        Err(invalid("it is not a cellar entry of this version"))
    }
}

fn millis_to_time(header: &[u8; HEADER]) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::from_le_bytes(header[8..16].try_into().unwrap()))
}

/// blake3 over the header fields (time, length) and the body, whose hasher is given.
fn checksum(fields: &[u8], body: blake3::Hasher) -> blake3::Hash {
    let mut outer = blake3::Hasher::new();
    outer.update(fields);
    outer.update(body.finalize().as_bytes());
    outer.finalize()
}

fn invalid(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
}

/// Forwards writes while hashing and counting them.
struct Hashing<'a> {
    inner: &'a mut File,
    hasher: blake3::Hasher,
    len: u64,
}

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn codec() -> Codec {
        crate::store::value::DataOps::of::<Vec<f64>>().codec
    }

    fn sample(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("a.entry");
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
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        write(
            &path,
            &vec![1.5, -2.0, f64::NAN],
            &record,
            at,
            codec(),
            false,
        )
        .unwrap();
        path
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("cellar-file-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn an_entry_reads_back_with_its_record_and_time() {
        let dir = scratch("roundtrip");
        let path = sample(&dir);
        let stored = read(&path, codec()).unwrap();
        let value: &Vec<f64> = stored.value.downcast_ref().unwrap();
        assert_eq!(value[..2], [1.5, -2.0]);
        assert!(value[2].is_nan());
        let record = stored.record.unwrap();
        assert_eq!(record[0].stream, Stream::Stdout);
        assert_eq!(&*record[1].bytes, b"err\n");
        let millis = stored
            .stored_at
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        assert_eq!(millis, 1_700_000_000_123);
        assert_eq!(stored_at(&path).unwrap(), stored.stored_at);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn truncated_and_flipped_files_are_errors() {
        let dir = scratch("damaged");
        let path = sample(&dir);
        let whole = std::fs::read(&path).unwrap();
        for cut in [0, 10, HEADER, whole.len() - 1] {
            std::fs::write(&path, &whole[..cut]).unwrap();
            let error = read(&path, codec())
                .err()
                .expect("a truncated file is an error");
            assert_eq!(error.kind(), io::ErrorKind::InvalidData, "cut at {cut}");
        }
        for at in [3, 9, 20, 30, HEADER + 2, whole.len() - 1] {
            let mut flipped = whole.clone();
            flipped[at] ^= 0x40;
            std::fs::write(&path, &flipped).unwrap();
            let error = read(&path, codec())
                .err()
                .expect("a flipped byte is an error");
            assert_eq!(error.kind(), io::ErrorKind::InvalidData, "flip at {at}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_file_is_not_found() {
        let error = read(Path::new("/nonexistent/cellar.entry"), codec())
            .err()
            .unwrap();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }
}
