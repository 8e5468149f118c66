//! Pairwise subject identifiers (OpenID Connect Core 1.0 §8.1): the `sub` a
//! client of a sector sees for a local user is
//! `base64url(HMAC-SHA-256(key, "ward pairwise v1" 0 sector 0 user id))`.
//!
//! HMAC under a secret key makes the value stable (same key, sector and user:
//! same `sub`), different between sectors, and not reversible nor linkable
//! across sectors without the key (§8.1 asks for exactly that; §17.3 on
//! correlation). The key is random, generated once, kept sealed by the
//! keyring in `ward_meta` and resealed on master-key rotation: it is not
//! derived from the master key, because rotating that must not change every
//! `sub` every client knows.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The label that separates this use of the key from any other (domain separation).
const LABEL: &[u8] = b"ward pairwise v1";

/// The 256-bit pairwise key.
#[derive(Clone)]
pub struct PairwiseKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for PairwiseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairwiseKey(..)")
    }
}

impl PairwiseKey {
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// The key from its stored bytes; None unless exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let bytes: [u8; 32] = bytes.try_into().ok()?;
        Some(Self(Zeroizing::new(bytes)))
    }

    /// The bytes to seal and store.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The `sub` for `user_id` in `sector` (a host name, §8.1): 43 characters
    /// of base64url (the full 256-bit tag).
    pub fn subject(&self, sector: &str, user_id: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.0.as_ref()).expect("HMAC accepts 32-byte keys");
        // Zero bytes between the parts: neither a host name nor a user id holds
        // one, so ("a.b", "c") and ("a", "b.c") cannot meet.
        mac.update(LABEL);
        mac.update(&[0]);
        mac.update(sector.as_bytes());
        mac.update(&[0]);
        mac.update(user_id.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> PairwiseKey {
        PairwiseKey::from_slice(&[byte; 32]).unwrap()
    }

    const USER: &str = "6f1d2c8e-8d0b-4b8a-9a43-2a4e2f0c1b11";

    #[test]
    fn the_same_key_sector_and_user_give_the_same_sub() {
        assert_eq!(
            key(1).subject("app.example.org", USER),
            key(1).subject("app.example.org", USER)
        );
    }

    #[test]
    fn sectors_users_and_keys_each_change_the_sub() {
        let base = key(1).subject("app.example.org", USER);
        assert_ne!(base, key(1).subject("other.example.org", USER));
        assert_ne!(
            base,
            key(1).subject("app.example.org", "7f1d2c8e-8d0b-4b8a-9a43-2a4e2f0c1b11")
        );
        assert_ne!(base, key(2).subject("app.example.org", USER));
        // The separator keeps the boundary between sector and user.
        assert_ne!(key(1).subject("a.b", "c"), key(1).subject("a", "b.c"));
    }

    #[test]
    fn the_sub_is_the_hmac_sha256_of_label_sector_and_user_in_base64url() {
        // Computed independently: the documented construction, with the hmac crate.
        let mut mac = Hmac::<Sha256>::new_from_slice(&[7u8; 32]).unwrap();
        mac.update(b"ward pairwise v1\0app.example.org\0u1");
        let expected = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        let sub = key(7).subject("app.example.org", "u1");
        assert_eq!(sub, expected);
        assert_eq!(sub.len(), 43);
        assert!(!sub.contains("u1") && !sub.contains("app.example.org"));
        assert!(
            sub.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

    #[test]
    fn a_key_is_32_bytes_random_and_never_printed() {
        assert!(PairwiseKey::from_slice(&[0u8; 31]).is_none());
        let (a, b) = (PairwiseKey::generate(), PairwiseKey::generate());
        assert_ne!(a.as_bytes(), b.as_bytes());
        assert_eq!(format!("{a:?}"), "PairwiseKey(..)");
    }
}
