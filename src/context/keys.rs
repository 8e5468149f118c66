//! Loading the signing keys into memory: the published public keys and the
//! active private keys, opened with the keyring. Pure reading; creating,
//! rotating and listing keys (with their audit records) is `manage::keys`.

use crate::clock::Millis;
use crate::crypto::keyring::{Keyring, KeyringError};
use crate::crypto::signing::{self, Algorithm, SigningError, SigningKeyMaterial};
use crate::oidc::keys::KeySet;
use crate::storage::Database;
use crate::store::signing_keys::{ACTIVE, StoredSigningKey, signing_key_context};
use crate::store::{SigningKeyStore, StoreError};

/// Why the keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(&'static str),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error(transparent)]
    Signing(#[from] SigningError),
}

/// Every key that may verify a live token, with the active ones opened for signing.
pub fn load_keyset(db: &Database, keyring: &Keyring, now: Millis) -> Result<KeySet, KeyLoadError> {
    let stored = db.published_signing_keys(now)?;
    let mut active = Vec::new();
    let mut published = Vec::new();
    for k in &stored {
        let jwk: serde_json::Value = serde_json::from_str(&k.public_jwk)
            .map_err(|_| KeyLoadError::Corrupt("signing_keys.public_jwk"))?;
        published.push(jwk);
        if k.state == ACTIVE {
            active.push(open(keyring, k)?);
        }
    }
    Ok(KeySet::new(active, published))
}

/// A stored private key, opened with the keyring.
pub fn open(
    keyring: &Keyring,
    stored: &StoredSigningKey,
) -> Result<SigningKeyMaterial, KeyLoadError> {
    let alg: Algorithm = stored.alg.parse()?;
    let der = keyring.open(
        &signing_key_context(&stored.kid),
        &stored.private_key_sealed,
    )?;
    Ok(signing::from_pkcs8_der(
        alg,
        zeroize::Zeroizing::new(der.to_vec()),
    )?)
}
