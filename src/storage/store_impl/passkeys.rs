//! [`PasskeyStore`] for the database: passkeys, ceremonies and the patient
//! sign-up; each change lands with its audit record.

use super::factors::first_codes;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::UserId;
use crate::domain::records::User;
use crate::storage::{Database, StorageError, audit, passkeys, users};
use crate::store::{CeremonyRow, NewPatient, PasskeyRemoval, PasskeyRow, PasskeyStore, StoreError};

/// A unique key already taken: the caller's answer, not a failure.
fn taken<T>(result: Result<T, StorageError>) -> Result<Option<T>, StoreError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(StorageError::Conflict(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl PasskeyStore for Database {
    fn passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
        Ok(passkeys::for_user(&mut *self.conn()?, user_id)?)
    }

    fn passkey(&self, credential_id: &str) -> Result<Option<PasskeyRow>, StoreError> {
        Ok(passkeys::find(&mut *self.conn()?, credential_id)?)
    }

    fn record_passkey_use(
        &self,
        credential_id: &str,
        passkey_json: &str,
        backup_state: bool,
        now: Millis,
    ) -> Result<(), StoreError> {
        let c = &mut *self.conn()?;
        Ok(passkeys::record_use(
            c,
            credential_id,
            passkey_json,
            backup_state,
            now,
        )?)
    }

    fn add_passkey(
        &self,
        row: &PasskeyRow,
        event: &AuditEvent,
        codes: &[String],
    ) -> Result<Option<bool>, StoreError> {
        taken(self.transaction(|c| {
            passkeys::insert(c, row)?;
            audit::append(c, event)?;
            first_codes(c, &row.user_id, codes, row.created_at)
        }))
    }

    fn rename_passkey(
        &self,
        user_id: &str,
        credential_id: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        Ok(passkeys::rename(
            &mut *self.conn()?,
            user_id,
            credential_id,
            name,
        )?)
    }

    fn remove_passkey(
        &self,
        id: &UserId,
        credential_id: &str,
        event: &AuditEvent,
    ) -> Result<PasskeyRemoval, StoreError> {
        let user_id = id.as_str();
        Ok(self.transaction(|c| {
            let has_password = users::password_hash(c, id)?.is_some();
            let count = passkeys::count_for_user(c, user_id)?;
            if !has_password && count <= 1 {
                return Ok::<_, StorageError>(PasskeyRemoval::LastWayIn);
            }
            if !passkeys::remove(c, user_id, credential_id)? {
                return Ok(PasskeyRemoval::NotFound);
            }
            audit::append(c, event)?;
            Ok(PasskeyRemoval::Removed)
        })?)
    }

    fn sign_up(
        &self,
        p: &NewPatient,
        passkey: &PasskeyRow,
        event: &AuditEvent,
    ) -> Result<Option<User>, StoreError> {
        taken(self.transaction(|c| {
            let (name, email) = (p.display_name.as_deref(), p.email.as_deref());
            users::insert_patient(c, &p.id, &p.username, name, email, p.created_at)?;
            passkeys::insert(c, passkey)?;
            audit::append(c, event)?;
            let id = UserId::parse(&p.id).ok_or_else(|| StorageError::Corrupt("user id".into()))?;
            users::find_by_id(c, &id)?.ok_or(StorageError::NotFound)
        }))
    }

    fn save_ceremony(&self, row: &CeremonyRow) -> Result<(), StoreError> {
        Ok(passkeys::insert_ceremony(&mut *self.conn()?, row)?)
    }

    fn take_ceremony(&self, id_hash: &str, now: Millis) -> Result<Option<CeremonyRow>, StoreError> {
        Ok(self.transaction(|c| passkeys::take_ceremony(c, id_hash, now))?)
    }
}
