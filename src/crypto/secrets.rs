//! High-entropy secrets Ward generates (client secrets, authorization codes,
//! refresh tokens, session ids, recovery codes): handed out once, stored only
//! as SHA-256 hashes, compared in constant time. A 256-bit random value needs
//! no salt or slow hash; its hash reveals nothing useful.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A new random secret of `bytes` bytes of entropy, base64url without padding.
pub fn generate(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The stored form: lower-case hex SHA-256.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time check of a presented secret against a stored hash.
pub fn verify(presented: &str, stored_hash: &str) -> bool {
    let presented = Sha256::digest(presented.as_bytes());
    match hex::decode(stored_hash) {
        Ok(stored) => presented[..].ct_eq(&stored).into(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_long_and_distinct() {
        let a = generate(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, generate(32));
    }

    #[test]
    fn verify_accepts_only_the_original() {
        let s = generate(32);
        let h = hash(&s);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&s));
        assert!(verify(&s, &h));
        assert!(!verify(&generate(32), &h));
        assert!(!verify(&s, "not-hex"));
    }
}
