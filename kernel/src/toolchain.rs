//! The Rust toolchain cells are compiled with: its version, and its shared `libstd`.
//!
//! evcxr needs rustc 1.95 or later, and cells link their dependencies as shared libraries, which
//! needs the toolchain's `libstd-*.so` (rustup toolchains ship it; some distribution packages
//! do not). `cellar-kernel doctor` checks both; the seed records the version it was built with.

use std::path::{Path, PathBuf};

/// The oldest rustc evcxr 0.22 works with.
pub const MINIMUM_RUSTC: (u32, u32) = (1, 95);

/// `rustc --version`, e.g. `rustc 1.95.0 (59807616e 2026-04-14)`; None when rustc can't run.
pub fn rustc_version_line() -> Option<String> {
    let out = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// (major, minor) of a `rustc --version` line.
pub fn parse_version(line: &str) -> Option<(u32, u32)> {
    let version = line.split_whitespace().nth(1)?;
    let mut parts = version.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The folder of the toolchain's libstd shared library (`rustc --print target-libdir`).
pub fn target_libdir() -> Option<PathBuf> {
    let out = std::process::Command::new("rustc")
        .args(["--print", "target-libdir"])
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    dir.is_dir().then_some(dir)
}

/// The `libstd-*.so` (or `.dylib`, `.dll`) in `libdir`, if there is one.
pub fn shared_libstd(libdir: &Path) -> Option<PathBuf> {
    let suffix = std::env::consts::DLL_SUFFIX;
    std::fs::read_dir(libdir)
        .ok()?
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("libstd-") && name.ends_with(suffix)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_rustc_lines() {
        assert_eq!(
            parse_version("rustc 1.95.0 (59807616e 2026-04-14)"),
            Some((1, 95))
        );
        assert_eq!(
            parse_version("rustc 1.96.0-nightly (abc 2026-05-01)"),
            Some((1, 96))
        );
        assert_eq!(parse_version("rustc"), None);
        assert_eq!(parse_version("error: no toolchain"), None);
        assert!(parse_version("rustc 1.94.1 (x)").unwrap() < MINIMUM_RUSTC);
        assert!(parse_version("rustc 2.0.0 (x)").unwrap() >= MINIMUM_RUSTC);
    }

    #[test]
    fn the_shared_libstd_is_found_by_its_name() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(shared_libstd(dir.path()), None);
        std::fs::write(dir.path().join("libstd-abc.rlib"), "").unwrap();
        assert_eq!(shared_libstd(dir.path()), None);
        let so = dir
            .path()
            .join(format!("libstd-abc{}", std::env::consts::DLL_SUFFIX));
        std::fs::write(&so, "").unwrap();
        assert_eq!(shared_libstd(dir.path()), Some(so));
    }
}
