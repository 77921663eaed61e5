//! The Rust toolchain cells are compiled with: its version, and its shared `libstd`.
//!
//! evcxr needs rustc 1.95 or later, and cells link their dependencies as shared libraries, which
//! needs the toolchain's `libstd-*.so` (rustup toolchains ship it; some distribution packages
//! do not). `cellar-kernel doctor` checks both; the seed records the version it was built with.

use std::path::{Path, PathBuf};

/// Where cargo, and the kernel, take the rustc to run from.
const RUSTC_ENV: &str = "RUSTC";

/// The oldest rustc evcxr 0.22 works with.
pub const MINIMUM_RUSTC: (u32, u32) = (1, 95);

/// `rustc --version`, e.g. `rustc 1.95.0 (59807616e 2026-04-14)`; None when rustc can't run.
/// In a kernel, the toolchain's own rustc (see [`name_rustc_in_env`]).
pub fn rustc_version_line() -> Option<String> {
    let rustc = std::env::var_os(RUSTC_ENV).unwrap_or_else(|| "rustc".into());
    let out = std::process::Command::new(rustc)
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

/// Names the toolchain's own `rustc` (beside `libdir`, its target libraries) in `RUSTC`, unless
/// the user set it.
///
/// evcxr's rust-analyzer loads the cell crate's workspace at the start, and again when a cell
/// adds a dependency, through cargo (`cargo metadata` and others), which runs rustc a dozen
/// times to learn the target, mostly one after another. cargo takes rustc from `RUSTC`; found
/// on `PATH`, it is rustup's proxy, which chooses the toolchain anew before it starts the real
/// rustc, each time: about 10 ms here, some 0.1 s of each load. The proxy would also choose by
/// the build folder's overrides, where the kernel chose by the notebook's folder, as evcxr does.
/// Call before any thread starts: it sets a process environment variable.
pub fn name_rustc_in_env(libdir: &Path) {
    if std::env::var_os(RUSTC_ENV).is_none() {
        if let Some(rustc) = rustc_beside(libdir) {
            std::env::set_var(RUSTC_ENV, rustc);
        }
    }
}

/// `<sysroot>/bin/rustc` for the target libraries `libdir`, `<sysroot>/lib/rustlib/<target>/lib`.
pub fn rustc_beside(libdir: &Path) -> Option<PathBuf> {
    let sysroot = libdir.ancestors().nth(4)?;
    let rustc = sysroot
        .join("bin")
        .join(format!("rustc{}", std::env::consts::EXE_SUFFIX));
    rustc.is_file().then_some(rustc)
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
    fn the_toolchains_rustc_is_found_beside_its_target_libraries() {
        let sysroot = tempfile::tempdir().unwrap();
        let libdir = sysroot
            .path()
            .join("lib/rustlib/x86_64-unknown-linux-gnu/lib");
        std::fs::create_dir_all(&libdir).unwrap();
        assert_eq!(rustc_beside(&libdir), None);
        std::fs::create_dir(sysroot.path().join("bin")).unwrap();
        let rustc = sysroot
            .path()
            .join(format!("bin/rustc{}", std::env::consts::EXE_SUFFIX));
        std::fs::write(&rustc, "").unwrap();
        assert_eq!(rustc_beside(&libdir), Some(rustc));
        assert_eq!(rustc_beside(Path::new("/lib")), None);
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
