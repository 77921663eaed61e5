//! Whether this process runs cells of a notebook (the kernel's cell process) or is a plain
//! program. Spinners and output recording are notebook behaviour: a plain program that uses
//! `#[cache_data]` gets neither, so its stdout stays its own.
//!
//! Detected from the environment evcxr and the kernel give the cell process (`EVCXR_IS_RUNTIME`,
//! [`crate::protocol::SESSION_FILE_ENV`]); `CELLAR_NOTEBOOK=1` or `=0` forces it either way.

use std::sync::OnceLock;

/// Forces notebook behaviour on (`1`) or off (`0`).
pub const NOTEBOOK_ENV: &str = "CELLAR_NOTEBOOK";

pub(crate) fn in_notebook() -> bool {
    static IN_NOTEBOOK: OnceLock<bool> = OnceLock::new();
    *IN_NOTEBOOK.get_or_init(|| match std::env::var(NOTEBOOK_ENV).as_deref() {
        Ok("1") | Ok("true") => true,
        Ok("0") | Ok("false") => false,
        _ => {
            std::env::var_os("EVCXR_IS_RUNTIME").is_some()
                || std::env::var_os(crate::protocol::SESSION_FILE_ENV).is_some()
        }
    })
}
