//! Verifying JWS signatures with a public JWK (with `ring`, as signing does):
//! Ward's own ES256/RS256 tokens, and clients' assertions, which SMART App
//! Launch 2.2.0 (§"Client Authentication: Asymmetric") requires to be accepted
//! in RS384 and ES384 as well.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self as sig, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::Value;

/// The JWS algorithms Ward verifies (RFC 7518 §3.1). `none` and the HMAC
/// algorithms are not among them: a public key never verifies a MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlg {
    Es256,
    Es384,
    Rs256,
    Rs384,
}

impl JwsAlg {
    pub const ALL: [JwsAlg; 4] = [JwsAlg::Es256, JwsAlg::Es384, JwsAlg::Rs256, JwsAlg::Rs384];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
        }
    }

    /// Exact, case-sensitive (RFC 7515 §4.1.1: `alg` is case-sensitive).
    pub fn parse(name: &str) -> Option<JwsAlg> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// The curve an EC algorithm needs, and its coordinate length in bytes.
    fn curve(self) -> Option<(&'static str, usize)> {
        match self {
            Self::Es256 => Some(("P-256", 32)),
            Self::Es384 => Some(("P-384", 48)),
            Self::Rs256 | Self::Rs384 => None,
        }
    }
}

impl fmt::Display for JwsAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

enum Key {
    Ec(UnparsedPublicKey<Vec<u8>>),
    Rsa(RsaPublicKeyComponents<Vec<u8>>),
}

/// A public key from a JWK, bound to one algorithm.
pub struct Verifier {
    alg: JwsAlg,
    key: Key,
}

impl Verifier {
    /// The key with its natural algorithm: ES256 for P-256, ES384 for P-384,
    /// and for RSA the JWK's `alg` when it says RS384, else RS256.
    pub fn from_jwk(jwk: &Value) -> Option<Self> {
        let alg = match (str_field(jwk, "kty")?, str_field(jwk, "crv")) {
            ("EC", Some("P-256")) => JwsAlg::Es256,
            ("EC", Some("P-384")) => JwsAlg::Es384,
            ("RSA", _) if str_field(jwk, "alg") == Some("RS384") => JwsAlg::Rs384,
            ("RSA", _) => JwsAlg::Rs256,
            _ => return None,
        };
        Self::for_alg(jwk, alg)
    }

    /// The key for the algorithm a JWS header names, if the key can verify it:
    /// the right key type and curve, and the JWK's own `alg`, when it has one,
    /// the same (RFC 7517 §4.4). So an RS256 key is never tried as RS384.
    pub fn for_alg(jwk: &Value, alg: JwsAlg) -> Option<Self> {
        if str_field(jwk, "alg").is_some_and(|a| a != alg.as_str()) {
            return None;
        }
        let key = match alg.curve() {
            Some((crv, len)) => {
                if str_field(jwk, "kty") != Some("EC") || str_field(jwk, "crv") != Some(crv) {
                    return None;
                }
                let (x, y) = (bytes_field(jwk, "x")?, bytes_field(jwk, "y")?);
                if x.len() != len || y.len() != len {
                    return None;
                }
                // Uncompressed SEC1 point; ring checks that it is on the curve
                // when verifying, and refuses the signature if not.
                let mut point = Vec::with_capacity(1 + 2 * len);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                let algorithm = match alg {
                    JwsAlg::Es256 => &sig::ECDSA_P256_SHA256_FIXED,
                    _ => &sig::ECDSA_P384_SHA384_FIXED,
                };
                Key::Ec(UnparsedPublicKey::new(algorithm, point))
            }
            None => {
                if str_field(jwk, "kty") != Some("RSA") {
                    return None;
                }
                let (n, e) = (bytes_field(jwk, "n")?, bytes_field(jwk, "e")?);
                // At least 2048 bits (RFC 7518 §3.3).
                if n.len() < 256 {
                    return None;
                }
                Key::Rsa(RsaPublicKeyComponents { n, e })
            }
        };
        Some(Verifier { alg, key })
    }

    pub fn algorithm(&self) -> JwsAlg {
        self.alg
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.key {
            Key::Ec(key) => key.verify(message, signature).is_ok(),
            Key::Rsa(key) => {
                let params = match self.alg {
                    JwsAlg::Rs384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                    _ => &sig::RSA_PKCS1_2048_8192_SHA256,
                };
                key.verify(params, message, signature).is_ok()
            }
        }
    }
}

fn str_field<'a>(jwk: &'a Value, name: &str) -> Option<&'a str> {
    jwk.get(name).and_then(Value::as_str)
}

fn bytes_field(jwk: &Value, name: &str) -> Option<Vec<u8>> {
    str_field(jwk, name).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
}

/// Most keys a client's key set may hold.
pub const MAX_CLIENT_KEYS: usize = 20;

/// The one check of a client's public key set (RFC 7517 §5), for a set given
/// at registration (`--jwks-file`, the admin API) and for every set fetched
/// from a client's `jwks_uri`: a JSON object with a `keys` array of 1 to 20
/// keys, none holding private parts, each one Ward can verify with
/// ([`Verifier::from_jwk`]: EC P-256 or P-384, RSA of at least 2048 bits,
/// and a JWK `alg`, when given, among those). Returns the parsed set, or why not.
pub fn public_key_set(text: &str) -> Result<Value, &'static str> {
    let set: Value = serde_json::from_str(text).map_err(|_| "is not JSON")?;
    let keys = set
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("must be an object with a `keys` array")?;
    if keys.is_empty() || keys.len() > MAX_CLIENT_KEYS {
        return Err("must hold 1 to 20 keys");
    }
    for key in keys {
        // RFC 7518 §6.2.2 (EC `d`) and §6.3.2 (RSA `d`, `p`, `q`, ...).
        if ["d", "p", "q", "dp", "dq", "qi"]
            .iter()
            .any(|f| key.get(f).is_some())
        {
            return Err("holds a private key; register public keys only");
        }
        if Verifier::from_jwk(key).is_none() {
            return Err(
                "keys must be EC P-256 or P-384, or RSA (2048 bits or more) public keys, for ES256, ES384, RS256 or RS384",
            );
        }
    }
    Ok(set)
}

/// Verify a signature with a public JWK as published in the JWKS.
pub fn verify_with_jwk(jwk: &Value, message: &[u8], signature: &[u8]) -> bool {
    Verifier::from_jwk(jwk).is_some_and(|v| v.verify(message, signature))
}

#[cfg(test)]
mod tests {
    use super::*;
    use p384::ecdsa::signature::Signer as _;
    use p384::elliptic_curve::sec1::ToEncodedPoint;
    use rsa::pkcs1v15::SigningKey;
    use rsa::signature::SignatureEncoding;
    use serde_json::json;

    fn b64(b: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(b)
    }

    fn p384_key() -> (p384::ecdsa::SigningKey, Value) {
        let key = p384::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let point = key.verifying_key().as_affine().to_encoded_point(false);
        let jwk = json!({"kty": "EC", "crv": "P-384",
            "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())});
        (key, jwk)
    }

    fn rsa_key() -> (rsa::RsaPrivateKey, Value) {
        use rsa::traits::PublicKeyParts;
        let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let jwk = json!({"kty": "RSA", "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be())});
        (key, jwk)
    }

    #[test]
    fn es384_signatures_verify_with_a_p384_jwk_and_only_as_es384() {
        let (key, jwk) = p384_key();
        let signature: p384::ecdsa::Signature = key.sign(b"header.payload");
        let bytes = signature.to_bytes();
        let v = Verifier::for_alg(&jwk, JwsAlg::Es384).unwrap();
        assert!(v.verify(b"header.payload", &bytes));
        assert!(!v.verify(b"header.payloaX", &bytes));
        assert_eq!(Verifier::from_jwk(&jwk).unwrap().algorithm(), JwsAlg::Es384);
        for other in [JwsAlg::Es256, JwsAlg::Rs256, JwsAlg::Rs384] {
            assert!(Verifier::for_alg(&jwk, other).is_none(), "{other}");
        }
    }

    #[test]
    fn rs384_and_rs256_verify_with_the_same_rsa_key_but_not_each_other() {
        let (key, jwk) = rsa_key();
        let rs384 = SigningKey::<sha2::Sha384>::new(key.clone())
            .sign(b"m")
            .to_vec();
        let rs256 = SigningKey::<sha2::Sha256>::new(key).sign(b"m").to_vec();
        let v384 = Verifier::for_alg(&jwk, JwsAlg::Rs384).unwrap();
        let v256 = Verifier::for_alg(&jwk, JwsAlg::Rs256).unwrap();
        assert!(v384.verify(b"m", &rs384));
        assert!(!v384.verify(b"m", &rs256));
        assert!(v256.verify(b"m", &rs256));
        assert!(!v256.verify(b"m", &rs384));
        // A JWK that names its algorithm is used for that one only.
        let mut pinned = jwk.clone();
        pinned["alg"] = json!("RS256");
        assert!(Verifier::for_alg(&pinned, JwsAlg::Rs384).is_none());
        assert!(Verifier::for_alg(&pinned, JwsAlg::Rs256).is_some());
    }

    #[test]
    fn a_public_key_set_holds_only_usable_public_keys() {
        let (_, ec) = p384_key();
        let (_, rsa) = rsa_key();
        let set = json!({"keys": [ec.clone(), rsa.clone()]}).to_string();
        assert_eq!(
            public_key_set(&set).unwrap()["keys"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let mut private = ec.clone();
        private["d"] = json!("AAAA");
        let mut short_rsa = rsa.clone();
        short_rsa["n"] = json!(b64(&[0xff; 128]));
        let mut bad_point = ec.clone();
        bad_point["x"] = json!(b64(&[1; 32]));
        let mut hmac_alg = rsa;
        hmac_alg["alg"] = json!("HS256");
        for (bad, needle) in [
            ("nope".to_string(), "not JSON"),
            (json!({"keys": []}).to_string(), "1 to 20"),
            (json!({"keys": vec![ec.clone(); 21]}).to_string(), "1 to 20"),
            (json!([ec]).to_string(), "`keys` array"),
            (json!({"keys": [private]}).to_string(), "private"),
            (json!({"keys": [short_rsa]}).to_string(), "2048"),
            (json!({"keys": [bad_point]}).to_string(), "P-384"),
            (json!({"keys": [hmac_alg]}).to_string(), "RS384"),
            (
                json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}).to_string(),
                "EC",
            ),
        ] {
            let why = public_key_set(&bad).unwrap_err();
            assert!(why.contains(needle), "{bad}: {why}");
        }
    }

    #[test]
    fn algorithm_names_are_exact() {
        assert_eq!(JwsAlg::parse("ES384"), Some(JwsAlg::Es384));
        for bad in ["es384", "none", "HS256", "RS512", ""] {
            assert_eq!(JwsAlg::parse(bad), None, "{bad}");
        }
    }
}
