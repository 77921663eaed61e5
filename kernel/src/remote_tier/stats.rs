//! What this kernel moved to and from the remote tier, for `:cellar`.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Transfers {
    entries_read: AtomicU64,
    bytes_read: AtomicU64,
    entries_written: AtomicU64,
    bytes_written: AtomicU64,
}

impl Transfers {
    pub fn read(&self, bytes: usize) {
        self.entries_read.fetch_add(1, Ordering::Relaxed);
        self.bytes_read.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn wrote(&self, bytes: usize) {
        self.entries_written.fetch_add(1, Ordering::Relaxed);
        self.bytes_written
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// "read 2 entries (1.2 KiB), wrote 1 entry (600 B)".
    pub fn describe(&self) -> String {
        let count = |n: u64| format!("{n} {}", if n == 1 { "entry" } else { "entries" });
        let size = |n: u64| bytesize::ByteSize::b(n).display().iec().to_string();
        let (read, read_bytes) = (
            self.entries_read.load(Ordering::Relaxed),
            self.bytes_read.load(Ordering::Relaxed),
        );
        let (written, written_bytes) = (
            self.entries_written.load(Ordering::Relaxed),
            self.bytes_written.load(Ordering::Relaxed),
        );
        format!(
            "read {} ({}), wrote {} ({})",
            count(read),
            size(read_bytes),
            count(written),
            size(written_bytes)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_entries_and_bytes_each_way() {
        let transfers = Transfers::default();
        transfers.read(600);
        transfers.wrote(1024);
        transfers.wrote(1024);
        assert_eq!(
            transfers.describe(),
            "read 1 entry (600 B), wrote 2 entries (2.0 KiB)"
        );
    }
}
