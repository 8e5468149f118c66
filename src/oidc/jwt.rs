//! JWS compact serialisation (RFC 7515) over Ward's RustCrypto signers. Only the
//! encoding lives here; signing and verification are the crypto module's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::crypto::signing::{Signer, SigningError, Verifier};

/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

pub fn encode(header: &Value, claims: &Value, signer: &Signer) -> Result<String, SigningError> {
    let mut out = String::with_capacity(512);
    URL_SAFE_NO_PAD.encode_string(header.to_string().as_bytes(), &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(claims.to_string().as_bytes(), &mut out);
    let signature = signer.sign(out.as_bytes())?;
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut out);
    Ok(out)
}

/// A parsed, not yet verified, JWS.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub header: Value,
    pub claims: Value,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl Decoded<'_> {
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    pub fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(Value::as_str)
    }

    /// Check the signature with `verifier`, whose algorithm must be the header's.
    pub fn verify(&self, verifier: &Verifier) -> bool {
        self.alg() == Some(verifier.algorithm().as_str())
            && verifier.verify(self.signing_input.as_bytes(), &self.signature)
    }
}

pub fn decode(token: &str) -> Option<Decoded<'_>> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let mut parts = token.split('.');
    let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    if !header.is_object() || !claims.is_object() {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(s).ok()?;
    Some(Decoded {
        header,
        claims,
        signing_input: &token[..h.len() + 1 + c.len()],
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::signing::{Algorithm, generate};
    use serde_json::json;

    #[test]
    fn round_trip_and_tamper() {
        for alg in Algorithm::ALL {
            let key = generate(alg).unwrap();
            let signer = key.signer().unwrap();
            let token = encode(
                &json!({"alg": alg.as_str(), "kid": key.kid}),
                &json!({"sub": "u1"}),
                &signer,
            )
            .unwrap();
            let verifier = Verifier::from_jwk(&key.public_jwk).unwrap();
            let d = decode(&token).unwrap();
            assert!(d.verify(&verifier));
            assert_eq!(d.claims["sub"], "u1");
            let mut parts: Vec<&str> = token.split('.').collect();
            let forged = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin"}"#);
            parts[1] = &forged;
            assert!(!decode(&parts.join(".")).unwrap().verify(&verifier));
        }
        assert!(decode("a.b").is_none());
        assert!(decode("not a jwt").is_none());
    }

    #[test]
    fn alg_confusion_is_refused() {
        let key = generate(Algorithm::Es256).unwrap();
        let signer = key.signer().unwrap();
        let token = encode(&json!({"alg": "none"}), &json!({"sub": "u1"}), &signer).unwrap();
        let verifier = Verifier::from_jwk(&key.public_jwk).unwrap();
        assert!(!decode(&token).unwrap().verify(&verifier));
    }
}
