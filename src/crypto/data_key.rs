//! A person's data key: 256 random bits under which the personal part of the
//! audit records about them is encrypted (AES-256-GCM), so that destroying
//! the key erases that part everywhere at once (crypto-shredding,
//! docs/privacy.md). The key itself is stored sealed by the keyring.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand_core::RngCore;

const NONCE_LEN: usize = 12;

/// The keyring context a person's data key is sealed under: a sealed key
/// copied to another person's row does not open there.
pub fn context(user_id: &str) -> String {
    format!("user_data_key:{user_id}")
}

#[derive(Clone)]
pub struct DataKey(zeroize::Zeroizing<[u8; 32]>);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(zeroize::Zeroizing::new(bytes))
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let bytes: [u8; 32] = bytes.try_into().ok()?;
        Some(Self(zeroize::Zeroizing::new(bytes)))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0[..]
    }

    /// `base64(nonce || ciphertext || tag)`, bound to `aad`.
    pub fn encrypt(&self, aad: &[u8], plaintext: &[u8]) -> String {
        let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*self.0));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // AES-GCM refuses only plaintexts over 64 GiB; audit details are small.
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("AES-GCM encryption of an audit record cannot fail");
        let mut blob = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ciphertext);
        STANDARD.encode(blob)
    }

    /// The plaintext, or None when `data` is not a ciphertext of this key
    /// bound to `aad`.
    pub fn decrypt(&self, aad: &[u8], data: &str) -> Option<Vec<u8>> {
        let blob = STANDARD.decode(data).ok()?;
        if blob.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        Aes256Gcm::new(&Key::<Aes256Gcm>::from(*self.0))
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let k = DataKey::generate();
        let c = k.encrypt(b"a", b"hello");
        assert_eq!(k.decrypt(b"a", &c).as_deref(), Some(&b"hello"[..]));
        assert_eq!(k.decrypt(b"b", &c), None);
        assert_eq!(DataKey::generate().decrypt(b"a", &c), None);
        assert_eq!(k.decrypt(b"a", "not base64!"), None);
    }
}
