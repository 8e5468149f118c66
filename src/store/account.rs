//! A person's own changes to their user record: password and address.

use super::StoreError;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::UserId;

pub trait AccountStore {
    fn password_hash(&self, user_id: &UserId) -> Result<Option<String>, StoreError>;
    /// Set (or replace) the password hash, with the audit record.
    fn set_password(
        &self,
        user_id: &UserId,
        hash: &str,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Change the address; it is unverified until a code proves it.
    fn set_email(&self, user_id: &str, email: &str, now: Millis) -> Result<(), StoreError>;
    /// Mark the address verified if it is still `email`, with the audit record.
    fn verify_email(
        &self,
        user_id: &str,
        email: &str,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
}
