//! The function key and the options key, computed when the macro expands.
//!
//! The function key is blake3 of the function's name, its token text (the item without the
//! cache attribute: signature, body, other attributes and doc comments; not comments or
//! formatting) and the type salt (the kernel passes the definitions of the notebook types the
//! signature names, so redefining a type starts a new cache). Editing the function changes it;
//! re-expanding the same source does not.
//!
//! The options key covers what shapes stored entries (kind, ttl, max_entries, scope, persist,
//! validate, on_release, hashers), not the spinner: the runtime replaces a function's cache when
//! it changes, firing `on_release` for the old entries.

use crate::options::CacheOptions;
use crate::CacheKind;
use quote::ToTokens;
use syn::ItemFn;

/// Version tag of the key layout: bump it when the layout changes, so old keys never match.
const KEY_LAYOUT: &str = "cellar fn key 1";

pub fn function_key(item: &ItemFn, type_salt: Option<&str>) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    write(&mut h, KEY_LAYOUT);
    write(&mut h, &item.sig.ident.to_string());
    write(&mut h, &item.to_token_stream().to_string());
    match type_salt {
        Some(salt) => {
            h.update(&[1]);
            write(&mut h, salt);
        }
        None => {
            h.update(&[0]);
        }
    }
    *h.finalize().as_bytes()
}

pub fn options_key(kind: CacheKind, options: &CacheOptions) -> [u8; 32] {
    let text = |value: Option<&dyn ToTokens>| {
        value
            .map(|v| v.to_token_stream().to_string())
            .unwrap_or_default()
    };
    let mut h = blake3::Hasher::new();
    write(&mut h, "cellar options key 1");
    write(&mut h, kind.name());
    write(
        &mut h,
        &text(options.ttl.as_ref().map(|v| v as &dyn ToTokens)),
    );
    write(
        &mut h,
        &text(options.max_entries.as_ref().map(|v| v as &dyn ToTokens)),
    );
    write(
        &mut h,
        if options.session_scope {
            "session"
        } else {
            "global"
        },
    );
    write(&mut h, if options.persist_disk { "disk" } else { "" });
    write(
        &mut h,
        &text(options.validate.as_ref().map(|v| v as &dyn ToTokens)),
    );
    write(
        &mut h,
        &text(options.on_release.as_ref().map(|v| v as &dyn ToTokens)),
    );
    for (arg, hasher) in &options.hashers {
        write(&mut h, &arg.to_string());
        write(&mut h, &hasher.to_token_stream().to_string());
    }
    *h.finalize().as_bytes()
}

fn write(h: &mut blake3::Hasher, text: &str) {
    h.update(&(text.len() as u64).to_le_bytes());
    h.update(text.as_bytes());
}
