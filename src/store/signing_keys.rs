//! Token-signing keys: their lifecycle (create, rotate, publish) and the
//! master-key rotation that re-seals every stored secret.

use serde::Serialize;

use super::StoreError;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::crypto::keyring::Keyring;

/// The state of the key that signs new tokens (one per algorithm).
pub const ACTIVE: &str = "active";

/// The AEAD context a signing key's private part is sealed under.
pub fn signing_key_context(kid: &str) -> String {
    format!("signing_key:{kid}")
}

/// A signing key as stored: the private part sealed by the keyring.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredSigningKey {
    pub kid: String,
    pub alg: String,
    /// [`ACTIVE`] or `retired`.
    pub state: String,
    #[serde(skip)]
    pub private_key_sealed: String,
    pub public_jwk: String,
    pub created_at: Millis,
    pub retired_at: Option<Millis>,
    pub publish_until: Option<Millis>,
}

pub trait SigningKeyStore {
    /// The active key for `alg` (`ES256`, `RS256`).
    fn active_signing_key(&self, alg: &str) -> Result<Option<StoredSigningKey>, StoreError>;
    /// Store a new active key with its audit record; false (nothing written)
    /// if `alg` already has an active key (another node won the race).
    fn add_signing_key(
        &self,
        key: &StoredSigningKey,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
    /// Every key, newest first, with the audit record `audit` makes of the list.
    fn signing_keys(
        &self,
        audit: impl FnOnce(&[StoredSigningKey]) -> AuditEvent,
    ) -> Result<Vec<StoredSigningKey>, StoreError>;
    /// Make `key` the active key of its algorithm: the previous one (given to
    /// `audit`) is retired but published until `publish_until`, in one
    /// transaction with the audit record. Returns the retired key as stored.
    fn rotate_signing_key(
        &self,
        key: &StoredSigningKey,
        now: Millis,
        publish_until: Millis,
        audit: impl FnOnce(Option<&StoredSigningKey>) -> AuditEvent,
    ) -> Result<Option<StoredSigningKey>, StoreError>;
    /// Keys that may still verify a live token: the active ones, and retired
    /// ones until their `publish_until`.
    fn published_signing_keys(&self, now: Millis) -> Result<Vec<StoredSigningKey>, StoreError>;
    /// Re-seal every stored secret from `old` to `new` in one transaction
    /// with the audit record `audit` makes of the count; returns the count.
    fn reseal_secrets(
        &self,
        old: &Keyring,
        new: &Keyring,
        now: Millis,
        audit: impl FnOnce(usize) -> AuditEvent,
    ) -> Result<usize, StoreError>;
}
