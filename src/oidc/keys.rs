//! The signing keys in memory: a parsed signer per algorithm for issuing, a
//! verifier per kid for checking, and the published JWKS document.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::crypto::signing::{Algorithm, Signer, SigningKeyMaterial, Verifier};

pub struct ActiveKey {
    pub kid: String,
    pub signer: Signer,
}

#[derive(Default)]
pub struct KeySet {
    active: HashMap<Algorithm, ActiveKey>,
    verifiers: HashMap<String, Verifier>,
    jwks: Value,
}

impl KeySet {
    /// `active`: the opened active keys. `published`: the public JWK of every key
    /// that may still verify a live token (active and recently retired).
    pub fn new(active: Vec<SigningKeyMaterial>, published: Vec<Value>) -> Self {
        let mut set = Self::default();
        for key in active {
            if let Ok(signer) = key.signer() {
                set.active.insert(
                    key.alg,
                    ActiveKey {
                        kid: key.kid.clone(),
                        signer,
                    },
                );
            }
        }
        for jwk in &published {
            if let (Some(kid), Some(v)) = (
                jwk.get("kid").and_then(Value::as_str),
                Verifier::from_jwk(jwk),
            ) {
                set.verifiers.insert(kid.to_string(), v);
            }
        }
        set.jwks = json!({ "keys": published });
        set
    }

    pub fn active(&self, alg: Algorithm) -> Option<&ActiveKey> {
        self.active.get(&alg)
    }

    pub fn verifier(&self, kid: &str) -> Option<&Verifier> {
        self.verifiers.get(kid)
    }

    /// The `/jwks` document: public keys only (kid, kty, alg, use and the key itself).
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }
}
