//! The long-lived browser ("device") cookie: a random id and an HMAC of it
//! under a key derived from the master key. The risk engine knows a browser by
//! this id; the signature lets Ward refuse a forged or mangled value without a
//! database lookup and means an id can only come from Ward itself.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The derivation label of the signing key (`Keyring::derive`).
pub const KEY_PURPOSE: &str = "device cookie v1";

/// How long the cookie lives: 400 days, the most browsers keep a cookie
/// (RFC 6265bis §5.6.1).
pub const MAX_AGE_SECONDS: i64 = 400 * 24 * 3600;

fn mac(key: &[u8; 32], id: &str) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts 32-byte keys");
    m.update(id.as_bytes());
    m
}

/// The cookie value for the browser id `id`: `<id>.<signature>`.
pub fn sign(key: &[u8; 32], id: &str) -> String {
    let tag = mac(key, id).finalize().into_bytes();
    format!("{id}.{}", URL_SAFE_NO_PAD.encode(&tag[..16]))
}

/// The browser id in a cookie value, if the signature is Ward's.
pub fn verify(key: &[u8; 32], value: &str) -> Option<String> {
    let (id, sig) = value.rsplit_once('.')?;
    if id.len() < 32 || id.len() > 64 {
        return None;
    }
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    mac(key, id).verify_truncated_left(&sig).ok()?;
    // verify_truncated_left accepts any prefix length; demand the full 16 bytes.
    (sig.len() == 16).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_ids_verify_and_tampering_is_refused() {
        let key = [7u8; 32];
        let id = "a".repeat(43);
        let v = sign(&key, &id);
        assert_eq!(verify(&key, &v), Some(id.clone()));
        assert_eq!(verify(&[8u8; 32], &v), None, "another key");
        let mut forged = v.clone();
        forged.replace_range(0..1, "b");
        assert_eq!(verify(&key, &forged), None, "another id");
        assert_eq!(verify(&key, &id), None, "unsigned");
        let short = &v[..v.len() - 4];
        assert_eq!(verify(&key, short), None, "truncated signature");
        assert_eq!(verify(&key, "x.y"), None);
    }
}
