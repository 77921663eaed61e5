//! Files written whole: under another name beside them, then renamed over them, so a reader
//! in another process (a kernel, a rustc wrapper) sees the old file or the new one, never half
//! of one.

use std::path::Path;

/// Writes `bytes` to `path` whole.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let writing = path.with_extension(format!("writing-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&writing, bytes)?;
    std::fs::rename(&writing, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&writing);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_and_nothing_else_is_left() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("count");
        write(&path, b"1").unwrap();
        write(&path, b"22").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"22");
        assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 1);
        assert!(write(&folder.path().join("missing/count"), b"1").is_err());
    }
}
