//! Token-signing keys: ES256 (P-256) and RS256 (RSA-2048), generated with
//! RustCrypto, identified by their RFC 7638 JWK thumbprint.
//!
//! The private key travels as PKCS#8 DER (sealed by the keyring when stored);
//! the public half as a JWK ready for the `/jwks` document.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::OsRng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Es256,
    Rs256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 2] = [Algorithm::Es256, Algorithm::Rs256];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = SigningError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "ES256" => Ok(Self::Es256),
            "RS256" => Ok(Self::Rs256),
            _ => Err(SigningError::UnsupportedAlgorithm(s.to_string())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    #[error("unsupported signing algorithm `{0}`; use ES256 or RS256")]
    UnsupportedAlgorithm(String),
    #[error("key material is invalid: {0}")]
    InvalidKey(String),
}

/// A private signing key and its public JWK.
pub struct SigningKeyMaterial {
    pub alg: Algorithm,
    pub kid: String,
    pub private_pkcs8_der: Zeroizing<Vec<u8>>,
    pub public_jwk: Value,
}

impl fmt::Debug for SigningKeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKeyMaterial({} {})", self.alg, self.kid)
    }
}

/// Generate a fresh key. RSA generation takes ~100 ms optimised; run it off async workers.
pub fn generate(alg: Algorithm) -> Result<SigningKeyMaterial, SigningError> {
    let der = match alg {
        Algorithm::Es256 => {
            use p256::pkcs8::EncodePrivateKey;
            let key = p256::ecdsa::SigningKey::random(&mut OsRng);
            key.to_pkcs8_der()
                .map_err(|e| SigningError::InvalidKey(e.to_string()))?
                .as_bytes()
                .to_vec()
        }
        Algorithm::Rs256 => {
            use rsa::pkcs8::EncodePrivateKey;
            let key = rsa::RsaPrivateKey::new(&mut OsRng, 2048)
                .map_err(|e| SigningError::InvalidKey(e.to_string()))?;
            key.to_pkcs8_der()
                .map_err(|e| SigningError::InvalidKey(e.to_string()))?
                .as_bytes()
                .to_vec()
        }
    };
    from_pkcs8_der(alg, Zeroizing::new(der))
}

/// Rebuild the key material (and its JWK and kid) from stored PKCS#8 DER.
pub fn from_pkcs8_der(
    alg: Algorithm,
    der: Zeroizing<Vec<u8>>,
) -> Result<SigningKeyMaterial, SigningError> {
    let invalid = |e: &dyn fmt::Display| SigningError::InvalidKey(e.to_string());
    let thumbprint_input;
    let public_jwk = match alg {
        Algorithm::Es256 => {
            use p256::pkcs8::DecodePrivateKey;
            let key = p256::ecdsa::SigningKey::from_pkcs8_der(&der).map_err(|e| invalid(&e))?;
            let point = key.verifying_key().to_encoded_point(false);
            let (x, y) = match (point.x(), point.y()) {
                (Some(x), Some(y)) => (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y)),
                _ => {
                    return Err(SigningError::InvalidKey(
                        "EC point has no coordinates".into(),
                    ));
                }
            };
            thumbprint_input = ec_thumbprint_input(&x, &y);
            json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y })
        }
        Algorithm::Rs256 => {
            use rsa::pkcs8::DecodePrivateKey;
            use rsa::traits::PublicKeyParts;
            let key = rsa::RsaPrivateKey::from_pkcs8_der(&der).map_err(|e| invalid(&e))?;
            let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
            let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
            thumbprint_input = rsa_thumbprint_input(&n, &e);
            json!({ "kty": "RSA", "n": n, "e": e })
        }
    };
    let kid = thumbprint(&thumbprint_input);
    let mut public_jwk = public_jwk;
    public_jwk["kid"] = json!(kid);
    public_jwk["alg"] = json!(alg.as_str());
    public_jwk["use"] = json!("sig");
    Ok(SigningKeyMaterial {
        alg,
        kid,
        private_pkcs8_der: der,
        public_jwk,
    })
}

// RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace.
fn ec_thumbprint_input(x: &str, y: &str) -> String {
    format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#)
}

fn rsa_thumbprint_input(n: &str, e: &str) -> String {
    format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#)
}

fn thumbprint(input: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(input.as_bytes()))
}

impl SigningKeyMaterial {
    /// Parse the private key once into a ready-to-use signer. Signing uses
    /// `ring` (rustls' crypto provider): its P-256 is several times faster than
    /// the portable implementation, and every token issued is signed.
    pub fn signer(&self) -> Result<Signer, SigningError> {
        let invalid = |e: &dyn fmt::Display| SigningError::InvalidKey(e.to_string());
        Ok(match self.alg {
            Algorithm::Es256 => Signer::Es256(
                ring::signature::EcdsaKeyPair::from_pkcs8(
                    &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &self.private_pkcs8_der,
                    &ring::rand::SystemRandom::new(),
                )
                .map_err(|e| invalid(&e))?,
            ),
            Algorithm::Rs256 => Signer::Rs256(
                ring::signature::RsaKeyPair::from_pkcs8(&self.private_pkcs8_der)
                    .map_err(|e| invalid(&e))?,
            ),
        })
    }

    /// Sign `message` (parses the key each time; keep a [`Signer`] for repeated use).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        self.signer()?.sign(message)
    }
}

/// A parsed private key.
pub enum Signer {
    Es256(ring::signature::EcdsaKeyPair),
    Rs256(ring::signature::RsaKeyPair),
}

impl Signer {
    /// JWS signature: ES256 as the 64-byte R||S (RFC 7518 §3.4), RS256 as PKCS#1 v1.5 over SHA-256.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        let _span = tracing::info_span!("jws.sign").entered();
        let rng = ring::rand::SystemRandom::new();
        let failed = |_| SigningError::InvalidKey("signing failed".into());
        match self {
            Self::Es256(key) => key
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(failed),
            Self::Rs256(key) => {
                let mut sig = vec![0u8; key.public().modulus_len()];
                key.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .map_err(failed)?;
                Ok(sig)
            }
        }
    }
}

pub use super::verify::{Verifier, verify_with_jwk};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_algorithms_sign_and_verify_through_the_public_jwk() {
        for alg in Algorithm::ALL {
            let key = generate(alg).unwrap();
            assert_eq!(key.public_jwk["alg"], alg.as_str());
            assert_eq!(key.public_jwk["kid"], key.kid.as_str());
            assert!(
                key.public_jwk.get("d").is_none(),
                "private part must not be in the JWK"
            );
            let sig = key.sign(b"header.payload").unwrap();
            assert!(verify_with_jwk(&key.public_jwk, b"header.payload", &sig));
            assert!(!verify_with_jwk(&key.public_jwk, b"header.payloaX", &sig));
        }
    }

    #[test]
    fn kid_is_stable_across_reloads() {
        let key = generate(Algorithm::Es256).unwrap();
        let again = from_pkcs8_der(Algorithm::Es256, key.private_pkcs8_der.clone()).unwrap();
        assert_eq!(key.kid, again.kid);
        assert_eq!(key.public_jwk, again.public_jwk);
    }

    #[test]
    fn rfc7638_thumbprint_example() {
        // RFC 7638 §3.1 example key and its thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            thumbprint(&rsa_thumbprint_input(n, "AQAB")),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn unknown_algorithm_is_refused() {
        assert!("HS256".parse::<Algorithm>().is_err());
        assert_eq!("es256".parse::<Algorithm>().unwrap(), Algorithm::Es256);
    }
}
