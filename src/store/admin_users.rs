//! User accounts, for administrators (and a user's own profile changes).
//! Each change lands with its audit record in one transaction; a refused
//! change writes nothing.

use serde::Serialize;

use super::StoreError;
use super::policy::{GrantRefused, RoleGrant};
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::records::{Profile, User};
use crate::domain::{UserId, UserStatus};

/// A new account, as an administrator creates it.
pub struct NewUser<'a> {
    pub id: &'a UserId,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub email_verified: bool,
    pub display_name: Option<&'a str>,
    pub status: UserStatus,
    pub now: Millis,
    /// The argon2id hash of its first password; None for a passkey-only account.
    pub password_hash: Option<&'a str>,
}

/// Why an account was not created (nothing written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRefused {
    UsernameTaken,
    /// Its first role could not be granted.
    Role(GrantRefused),
}

/// What removing a user's second factors removed.
#[derive(Debug, Default, Serialize)]
pub struct RemovedFactors {
    pub passkeys: usize,
    pub totp: bool,
    pub recovery_codes: usize,
}

pub trait UserAdminStore {
    /// A user by (normalised) username.
    fn user_named(&self, username: &str) -> Result<Option<User>, StoreError>;
    /// Create an account (with its password, if any) and the `user.create`
    /// record, and grant it `role` when given, all in one transaction.
    fn create_user(
        &self,
        user: &NewUser<'_>,
        audit: &AuditEvent,
        role: Option<&RoleGrant<'_>>,
    ) -> Result<Result<User, UserRefused>, StoreError>;
    /// Users ordered by username after `after`, with the audit record `audit`
    /// makes of the page.
    fn users_page(
        &self,
        after: Option<&str>,
        limit: i64,
        audit: impl FnOnce(&[User]) -> AuditEvent,
    ) -> Result<Vec<User>, StoreError>;
    /// Enable or disable an account with its audit record; `unlock` (a
    /// username) also lifts the brute-force lock on that account. The account
    /// as changed; None (nothing written) if it is gone.
    fn set_user_status(
        &self,
        id: &UserId,
        status: UserStatus,
        unlock: Option<&str>,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<Option<User>, StoreError>;
    /// Replace the user's password hash, with its audit record.
    fn set_user_password(
        &self,
        id: &UserId,
        hash: &str,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// Replace the user's display name and profile claims, with the audit
    /// record. The account as changed; None (nothing written) if it is gone.
    fn set_user_profile(
        &self,
        id: &UserId,
        display_name: Option<&str>,
        profile: &Profile,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<Option<User>, StoreError>;
    /// Remove every passkey, the TOTP and the recovery codes of a user, with
    /// the audit record `audit` makes of what was removed.
    fn remove_second_factors(
        &self,
        user_id: &str,
        audit: impl FnOnce(&RemovedFactors) -> AuditEvent,
    ) -> Result<RemovedFactors, StoreError>;
}
