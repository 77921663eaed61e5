//! Signed entries: with [`KEY_ENV`] set, every entry written is signed and every entry read must
//! carry a valid signature (see [`super::entry`]), in every tier. The key is derived from the
//! secret with blake3's key derivation, and a signature is the entry's checksum under keyed
//! blake3, so it covers the whole entry.

use std::sync::OnceLock;

/// The secret that signs entries, shared by every machine that shares a cache.
pub const KEY_ENV: &str = "CELLAR_CACHE_KEY";

const CONTEXT: &str = "cellar 2026-11 cache entry signature";

/// The key entries are signed with.
pub(crate) struct SigningKey([u8; 32]);

impl SigningKey {
    pub fn from_secret(secret: &str) -> SigningKey {
        SigningKey(blake3::derive_key(CONTEXT, secret.as_bytes()))
    }

    /// The key from [`KEY_ENV`], read once; none when it is unset or empty.
    pub fn from_env() -> Option<&'static SigningKey> {
        static KEY: OnceLock<Option<SigningKey>> = OnceLock::new();
        KEY.get_or_init(|| {
            std::env::var(KEY_ENV)
                .ok()
                .filter(|secret| !secret.is_empty())
                .map(|secret| SigningKey::from_secret(&secret))
        })
        .as_ref()
    }

    pub fn sign(&self, checksum: &[u8; 32]) -> [u8; 32] {
        *blake3::keyed_hash(&self.0, checksum).as_bytes()
    }

    /// Compares in constant time (blake3's `Hash` equality).
    pub fn verify(&self, checksum: &[u8; 32], signature: &[u8]) -> bool {
        <[u8; 32]>::try_from(signature)
            .is_ok_and(|signature| blake3::keyed_hash(&self.0, checksum) == signature)
    }
}
