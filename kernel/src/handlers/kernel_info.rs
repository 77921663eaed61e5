//! `kernel_info_reply`: who this kernel is and how frontends should treat Rust.

use crate::wire::PROTOCOL_VERSION;
use serde_json::{json, Value};
use std::sync::OnceLock;

pub fn content() -> Value {
    json!({
        "status": "ok",
        "protocol_version": PROTOCOL_VERSION,
        "implementation": "cellar",
        "implementation_version": env!("CARGO_PKG_VERSION"),
        "language_info": {
            "name": "rust",
            "version": rust_version(),
            "mimetype": "text/rust",
            "file_extension": ".rs",
            "pygments_lexer": "rust",
            "codemirror_mode": "rust",
            "nbconvert_exporter": "script",
        },
        "banner": format!(
            "cellar {} — Rust notebooks with cell caching (evcxr {})\nType :help for the kernel's commands.",
            env!("CARGO_PKG_VERSION"),
            "0.22"
        ),
        "help_links": [
            { "text": "Rust standard library", "url": "https://doc.rust-lang.org/std/" },
            { "text": "The Rust Book", "url": "https://doc.rust-lang.org/book/" },
            { "text": "evcxr commands", "url": "https://github.com/evcxr/evcxr/blob/main/COMMON.md" },
        ],
        "debugger": false,
        "supported_features": ["iopub_welcome"],
    })
}

/// The version of the `rustc` that compiles cells, asked once.
fn rust_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        crate::toolchain::rustc_version_line()
            .and_then(|line| line.split_whitespace().nth(1).map(str::to_string))
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn language_info_describes_rust() {
        let info = super::content();
        assert_eq!(info["language_info"]["name"], "rust");
        assert_eq!(info["language_info"]["file_extension"], ".rs");
        assert_eq!(info["protocol_version"], "5.3");
        assert!(info["language_info"]["version"]
            .as_str()
            .unwrap()
            .starts_with('1'));
    }
}
