//! Which client session runs the current cell, for `scope = "session"` caches.
//!
//! The kernel writes the session id (the `session` of the execute request's header) to the file
//! named by `CELLAR_SESSION_FILE` before each cell. The file is read only by session-scoped
//! caches, on each of their calls; global caches never touch it. Outside a kernel (variable
//! unset, file missing or empty) there is no session and a session-scoped cache behaves as a
//! global one.

use crate::protocol::SESSION_FILE_ENV;

/// The session running the current cell, if the kernel said.
pub fn current_session() -> Option<String> {
    let path = std::env::var_os(SESSION_FILE_ENV)?;
    let text = std::fs::read_to_string(path).ok()?;
    let id = text.trim();
    (!id.is_empty()).then(|| id.to_string())
}
