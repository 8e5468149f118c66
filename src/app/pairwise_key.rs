//! The pairwise subject key (`crypto::pairwise`): made once, on the first
//! start after the migration that introduced it, sealed by the keyring in
//! `ward_meta`, and opened at every start. It is never derived from the
//! master key and never replaced: every pairwise `sub` a client holds
//! depends on it. `storage::secrets::reseal_all` reseals it on master-key
//! rotation, like every other sealed value.

use super::StartupError;
use crate::audit::{AuditEvent, Outcome};
use crate::clock::Millis;
use crate::crypto::keyring::{Keyring, KeyringError};
use crate::crypto::pairwise::PairwiseKey;
use crate::storage::{self, Database, StorageError, meta};

/// The stored key, or a new one stored with its audit record. Nodes starting
/// together on a database without one: the first insert wins, the others
/// read it back.
pub fn ensure(db: &Database, keyring: &Keyring, now: Millis) -> Result<PairwiseKey, StartupError> {
    if let Some(sealed) = meta::get(&mut *db.conn()?, meta::PAIRWISE_KEY)? {
        return open(keyring, &sealed);
    }
    let key = PairwiseKey::generate();
    let sealed = keyring.seal(meta::PAIRWISE_KEY_CONTEXT, key.as_bytes());
    let inserted = db.transaction(|c| {
        let inserted = meta::insert_new(c, meta::PAIRWISE_KEY, &sealed, now)?;
        if inserted {
            let event = AuditEvent::new(now, "system", "pairwise_key.create", Outcome::Success)
                .detail("sealed_by", keyring.key_id());
            storage::audit::append(c, &event)?;
        }
        Ok::<_, StorageError>(inserted)
    })?;
    if inserted {
        return Ok(key);
    }
    let winner = meta::get(&mut *db.conn()?, meta::PAIRWISE_KEY)?.unwrap_or_default();
    open(keyring, &winner)
}

fn open(keyring: &Keyring, sealed: &str) -> Result<PairwiseKey, StartupError> {
    let bytes = keyring
        .open(meta::PAIRWISE_KEY_CONTEXT, sealed)
        .map_err(|e| match e {
            KeyringError::WrongKey {
                sealed_by,
                configured,
            } => StartupError::WrongMasterKey {
                sealed_by,
                configured,
            },
            other => StartupError::MasterKey(format!("the pairwise subject key: {other}")),
        })?;
    PairwiseKey::from_slice(&bytes)
        .ok_or_else(|| StartupError::MasterKey("the pairwise subject key is not 32 bytes".into()))
}
