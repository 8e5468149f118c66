//! [`FactorStore`] for the database: TOTP and recovery codes; each change
//! lands with its audit record.

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::UserId;
use crate::storage::second_factors as sf;
use crate::storage::{AnyConnection, Database, StorageError, audit, passkeys, users};
use crate::store::factors::StepOf;
use crate::store::{Enrolled, FactorStore, StoreError, TotpRow};

/// Store `hashes` as the account's recovery codes if it has never had any;
/// true if they were stored.
pub(super) fn first_codes(
    c: &mut AnyConnection,
    user_id: &str,
    hashes: &[String],
    now: Millis,
) -> Result<bool, StorageError> {
    if sf::has_recovery_codes(c, user_id)? {
        return Ok(false);
    }
    sf::replace_recovery_codes(c, user_id, hashes, now)?;
    Ok(true)
}

impl FactorStore for Database {
    fn enrolled(&self, user_id: &UserId) -> Result<Enrolled, StoreError> {
        let c = &mut *self.conn()?;
        let id = user_id.as_str();
        Ok(Enrolled {
            password: users::password_hash(c, user_id)?.is_some(),
            totp: sf::totp(c, id)?.is_some_and(|t| t.confirmed_at.is_some()),
            passkeys: passkeys::count_for_user(c, id)?,
            recovery_codes: sf::unused_recovery_codes(c, id)?,
        })
    }

    fn totp(&self, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
        Ok(sf::totp(&mut *self.conn()?, user_id)?)
    }

    fn accept_totp_step(&self, user_id: &str, step: i64, now: Millis) -> Result<bool, StoreError> {
        Ok(sf::accept_totp_step(
            &mut *self.conn()?,
            user_id,
            step,
            now,
        )?)
    }

    fn begin_totp(
        &self,
        user_id: &str,
        fresh_sealed: &str,
        now: Millis,
    ) -> Result<Option<String>, StoreError> {
        Ok(self.transaction(|c| match sf::totp(c, user_id)? {
            Some(t) if t.confirmed_at.is_some() => Ok::<_, StorageError>(None),
            Some(t) => Ok(Some(t.secret_sealed)),
            None => {
                sf::begin_totp(c, user_id, fresh_sealed, now)?;
                Ok(Some(fresh_sealed.to_string()))
            }
        })?)
    }

    fn confirm_totp(
        &self,
        user_id: &str,
        now: Millis,
        step_of: StepOf<'_>,
        event: &AuditEvent,
        codes: &[String],
    ) -> Result<Option<bool>, StoreError> {
        self.transaction(|c| {
            let Some(row) = sf::totp(c, user_id)?.filter(|t| t.confirmed_at.is_none()) else {
                return Ok(None);
            };
            let Some(step) = step_of(&row)? else {
                return Ok(None);
            };
            if !sf::accept_totp_step(c, user_id, step, now)? {
                return Ok(None);
            }
            audit::append(c, event)?;
            Ok(Some(first_codes(c, user_id, codes, now)?))
        })
    }

    fn remove_totp(&self, user_id: &str, event: &AuditEvent) -> Result<bool, StoreError> {
        Ok(self.transaction(|c| {
            let gone = sf::remove_totp(c, user_id)?;
            if gone {
                audit::append(c, event)?;
            }
            Ok::<_, StorageError>(gone)
        })?)
    }

    fn use_recovery_code(
        &self,
        user_id: &str,
        hash: &str,
        now: Millis,
        event: AuditEvent,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self.transaction(|c| {
            if !sf::use_recovery_code(c, user_id, hash, now)? {
                return Ok::<_, StorageError>(None);
            }
            let left = sf::unused_recovery_codes(c, user_id)?;
            audit::append(c, &event.detail("remaining", left))?;
            Ok(Some(left))
        })?)
    }

    fn replace_recovery_codes(
        &self,
        user_id: &str,
        hashes: &[String],
        now: Millis,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        Ok(self.transaction(|c| {
            sf::replace_recovery_codes(c, user_id, hashes, now)?;
            audit::append(c, event)
        })?)
    }
}
