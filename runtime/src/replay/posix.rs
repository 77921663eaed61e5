//! The C calls the output capture makes (`capture`), with `libc`'s names.
//!
//! On Linux on x86-64 and AArch64, the cells' platforms, they are declared here rather than
//! taken from the `libc` crate. evcxr's rust-analyzer loads every crate of the cells' dependency
//! graph when a kernel first adds the runtime, and `libc`, thousands of files and
//! macro-generated items for every platform, was about 0.9 s of that load (one second of each
//! kernel of a notebook that caches, measured against the same dependencies without it). The
//! values below are those of these two targets' kernel ABI, alike for glibc and musl; every
//! other platform takes them from `libc`.

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
pub use declared::*;
#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
pub use libc::{
    close, dup2, fcntl, pipe2, poll, pollfd, read, write, F_DUPFD_CLOEXEC, F_SETFL, O_CLOEXEC,
    O_NONBLOCK, POLLERR, POLLHUP, POLLIN, POLLOUT,
};

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod declared {
    use std::ffi::{c_int, c_short, c_ulong, c_void};

    pub const F_DUPFD_CLOEXEC: c_int = 1030;
    pub const F_SETFL: c_int = 4;
    pub const O_NONBLOCK: c_int = 0o4000;
    pub const O_CLOEXEC: c_int = 0o2000000;
    pub const POLLIN: c_short = 0x1;
    pub const POLLOUT: c_short = 0x4;
    pub const POLLERR: c_short = 0x8;
    pub const POLLHUP: c_short = 0x10;

    #[repr(C)]
    #[allow(non_camel_case_types)]
    pub struct pollfd {
        pub fd: c_int,
        pub events: c_short,
        pub revents: c_short,
    }

    unsafe extern "C" {
        pub fn close(fd: c_int) -> c_int;
        pub fn dup2(old: c_int, new: c_int) -> c_int;
        pub fn fcntl(fd: c_int, command: c_int, ...) -> c_int;
        pub fn pipe2(fds: *mut c_int, flags: c_int) -> c_int;
        pub fn poll(fds: *mut pollfd, count: c_ulong, timeout_ms: c_int) -> c_int;
        pub fn read(fd: c_int, buffer: *mut c_void, count: usize) -> isize;
        pub fn write(fd: c_int, buffer: *const c_void, count: usize) -> isize;
    }
}
