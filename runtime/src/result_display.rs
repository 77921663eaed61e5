//! How a cell's final expression is shown when its type has no `evcxr_display` method.
//!
//! evcxr shows a cell's final expression by compiling `(expr).evcxr_display()` and, when that
//! does not compile, compiling the whole cell again with `{:?}` formatting: two builds for most
//! cells that end in a value. The kernel instead compiles that call once with [`ShowWithDebug`]
//! in scope. A type's own `evcxr_display` (an inherent method) still wins over the trait's, and
//! any other `Debug` value is shown as evcxr's fallback shows it, as `text/plain`.

use std::io::Write;

/// Shows a value with `{:?}` in evcxr's display convention.
pub trait ShowWithDebug {
    fn evcxr_display(&self);
}

impl<T: std::fmt::Debug + ?Sized> ShowWithDebug for T {
    fn evcxr_display(&self) {
        send_text_plain(&format!("{self:?}"));
    }
}

/// One `text/plain` block, as evcxr's own fallback prints it.
fn send_text_plain(text: &str) {
    let mut out = std::io::stdout().lock();
    let sent = out
        .write_all(b"EVCXR_BEGIN_CONTENT text/plain\n")
        .and_then(|()| out.write_all(text.as_bytes()))
        .and_then(|()| out.write_all(b"\nEVCXR_END_CONTENT\n"))
        .and_then(|()| out.flush());
    if let Err(error) = sent {
        eprintln!("cellar: could not send the cell's result: {error}");
    }
}
