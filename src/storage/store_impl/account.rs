//! [`AccountStore`] for the database: each change lands with its audit record.

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::UserId;
use crate::storage::{Database, audit, users};
use crate::store::{AccountStore, StoreError};

impl AccountStore for Database {
    fn password_hash(&self, user_id: &UserId) -> Result<Option<String>, StoreError> {
        Ok(users::password_hash(&mut *self.conn()?, user_id)?)
    }

    fn set_password(
        &self,
        user_id: &UserId,
        hash: &str,
        now: Millis,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        Ok(self.transaction(|c| {
            users::set_password_hash(c, user_id, hash, now)?;
            audit::append(c, event)
        })?)
    }

    fn set_email(&self, user_id: &str, email: &str, now: Millis) -> Result<(), StoreError> {
        Ok(users::set_email(&mut *self.conn()?, user_id, email, now)?)
    }

    fn verify_email(
        &self,
        user_id: &str,
        email: &str,
        now: Millis,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        Ok(self.transaction(|c| {
            users::mark_email_verified(c, user_id, email, now)?;
            audit::append(c, event)
        })?)
    }
}
