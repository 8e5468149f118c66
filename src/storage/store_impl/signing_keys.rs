//! [`SigningKeyStore`] for the database.

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::crypto::keyring::Keyring;
use crate::storage::secrets::{self, ResealError};
use crate::storage::{Database, StorageError, audit, signing_keys};
use crate::store::signing_keys::StoredSigningKey;
use crate::store::{SigningKeyStore, StoreError};

impl SigningKeyStore for Database {
    fn active_signing_key(&self, alg: &str) -> Result<Option<StoredSigningKey>, StoreError> {
        Ok(signing_keys::active(&mut *self.conn()?, alg)?)
    }

    fn add_signing_key(
        &self,
        key: &StoredSigningKey,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let result = self.transaction(|c| {
            signing_keys::insert(c, key)?;
            audit::append(c, event)
        });
        match result {
            Ok(()) => Ok(true),
            // The unique index on active keys per algorithm: another node won.
            Err(StorageError::Conflict(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn signing_keys(
        &self,
        record: impl FnOnce(&[StoredSigningKey]) -> AuditEvent,
    ) -> Result<Vec<StoredSigningKey>, StoreError> {
        Ok(self.transaction(|c| {
            let keys = signing_keys::list(c)?;
            audit::append(c, &record(&keys))?;
            Ok::<_, StorageError>(keys)
        })?)
    }

    fn rotate_signing_key(
        &self,
        key: &StoredSigningKey,
        now: Millis,
        publish_until: Millis,
        record: impl FnOnce(Option<&StoredSigningKey>) -> AuditEvent,
    ) -> Result<Option<StoredSigningKey>, StoreError> {
        Ok(self.transaction(|c| {
            let previous = signing_keys::active(c, &key.alg)?;
            if let Some(prev) = &previous {
                signing_keys::retire(c, &prev.kid, now, publish_until)?;
            }
            signing_keys::insert(c, key)?;
            audit::append(c, &record(previous.as_ref()))?;
            let retired = match &previous {
                Some(p) => signing_keys::list(c)?.into_iter().find(|k| k.kid == p.kid),
                None => None,
            };
            Ok::<_, StorageError>(retired)
        })?)
    }

    fn published_signing_keys(&self, now: Millis) -> Result<Vec<StoredSigningKey>, StoreError> {
        Ok(signing_keys::published(&mut *self.conn()?, now)?)
    }

    fn reseal_secrets(
        &self,
        old: &Keyring,
        new: &Keyring,
        now: Millis,
        record: impl FnOnce(usize) -> AuditEvent,
    ) -> Result<usize, StoreError> {
        let result = self.transaction(|c| {
            let count = secrets::reseal_all(c, old, new, now)?;
            audit::append(c, &record(count))?;
            Ok::<_, ResealError>(count)
        });
        result.map_err(|e| match e {
            ResealError::Storage(s) => s.into(),
            // Which secret could not be opened: the operator needs to know.
            keyring => StoreError::Internal(keyring.to_string()),
        })
    }
}
