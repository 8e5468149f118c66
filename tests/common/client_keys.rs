//! A client's own keys, made with RustCrypto as a client would make them, and
//! the RFC 7523 client assertions it signs with them (ES384, RS384, RS256).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p384::elliptic_curve::sec1::ToEncodedPoint;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

pub enum Key {
    P384(p384::ecdsa::SigningKey),
    Rsa(rsa::RsaPrivateKey),
}

impl Key {
    pub fn p384() -> Key {
        Key::P384(p384::ecdsa::SigningKey::random(&mut rand_core::OsRng))
    }

    pub fn rsa() -> Key {
        Key::Rsa(rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap())
    }

    /// The public half as a JWK.
    pub fn jwk(&self, kid: &str) -> Value {
        match self {
            Key::P384(k) => {
                let p = k.verifying_key().as_affine().to_encoded_point(false);
                json!({"kty": "EC", "crv": "P-384", "kid": kid,
                    "x": b64(p.x().unwrap()), "y": b64(p.y().unwrap())})
            }
            Key::Rsa(k) => json!({"kty": "RSA", "kid": kid,
                "n": b64(&k.n().to_bytes_be()), "e": b64(&k.e().to_bytes_be())}),
        }
    }

    pub fn sign(&self, alg: &str, input: &[u8]) -> Vec<u8> {
        match (self, alg) {
            (Key::P384(k), _) => {
                let s: p384::ecdsa::Signature = k.sign(input);
                s.to_bytes().to_vec()
            }
            (Key::Rsa(k), "RS384") => SigningKey::<sha2::Sha384>::new(k.clone())
                .sign(input)
                .to_vec(),
            (Key::Rsa(k), _) => SigningKey::<sha2::Sha256>::new(k.clone())
                .sign(input)
                .to_vec(),
        }
    }
}

/// Unix seconds now, plus the server clock's offset in milliseconds.
pub fn now_plus(offset_ms: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    now + offset_ms / 1000
}

/// An assertion by client `iss` for `aud`, signed with `key` as `alg`, its
/// header naming `kid`, valid for a minute from `now` (Unix seconds).
pub fn assertion_at(
    key: &Key,
    (alg, kid): (&str, &str),
    iss: &str,
    aud: &str,
    jti: &str,
    now: i64,
) -> String {
    let header = b64(json!({"alg": alg, "kid": kid, "typ": "JWT"})
        .to_string()
        .as_bytes());
    let claims = json!({"iss": iss, "sub": iss, "aud": aud, "exp": now + 60,
        "iat": now, "jti": jti});
    let input = format!("{header}.{}", b64(claims.to_string().as_bytes()));
    let sig = key.sign(alg, input.as_bytes());
    format!("{input}.{}", b64(&sig))
}
