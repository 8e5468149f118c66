//! [`UserAdminStore`] for the database.

use super::refusal::{Abort, settle};
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::records::{Profile, User};
use crate::domain::{UserId, UserStatus};
use crate::storage::{Database, StorageError, audit, passkeys, second_factors, throttle, users};
use crate::store::admin_users::{NewUser, RemovedFactors, UserRefused};
use crate::store::policy::RoleGrant;
use crate::store::{StoreError, UserAdminStore};

impl UserAdminStore for Database {
    fn user_named(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(users::find_by_username(&mut *self.conn()?, username)?)
    }

    fn create_user(
        &self,
        u: &NewUser<'_>,
        event: &AuditEvent,
        role: Option<&RoleGrant<'_>>,
    ) -> Result<Result<User, UserRefused>, StoreError> {
        let row = users::NewUser {
            id: u.id.as_str(),
            username: u.username,
            email: u.email,
            email_verified: u.email_verified,
            display_name: u.display_name,
            status: u.status.as_str(),
            created_at: u.now,
            updated_at: u.now,
        };
        let done = self.transaction(|c| {
            users::insert(c, &row).map_err(|e| match e {
                StorageError::Conflict(_) => Abort::Refused(UserRefused::UsernameTaken),
                other => other.into(),
            })?;
            if let Some(hash) = u.password_hash {
                users::set_password_hash(c, u.id, hash, u.now)?;
            }
            audit::append(c, event)?;
            if let Some(grant) = role {
                super::policy::grant_in(c, grant).map_err(|a| a.map(UserRefused::Role))?;
            }
            users::find_by_id(c, u.id)?
                .ok_or_else(|| Abort::Failed(StoreError::Internal("the new user vanished".into())))
        });
        settle(done)
    }

    fn users_page(
        &self,
        after: Option<&str>,
        limit: i64,
        record: impl FnOnce(&[User]) -> AuditEvent,
    ) -> Result<Vec<User>, StoreError> {
        Ok(self.transaction(|c| {
            let list = users::list(c, after, limit)?;
            audit::append(c, &record(&list))?;
            Ok::<_, StorageError>(list)
        })?)
    }

    fn set_user_status(
        &self,
        id: &UserId,
        status: UserStatus,
        unlock: Option<&str>,
        now: Millis,
        event: &AuditEvent,
    ) -> Result<Option<User>, StoreError> {
        let done = self.transaction(|c| {
            users::set_status(c, id, status, now)?;
            if let Some(username) = unlock {
                throttle::reset(c, &throttle::account_key(username))?;
            }
            audit::append(c, event)?;
            users::find_by_id(c, id)?.ok_or(Abort::Refused(()))
        });
        Ok(settle(done)?.ok())
    }

    fn set_user_password(
        &self,
        id: &UserId,
        hash: &str,
        now: Millis,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        Ok(self.transaction(|c| {
            users::set_password_hash(c, id, hash, now)?;
            audit::append(c, event)
        })?)
    }

    fn set_user_profile(
        &self,
        id: &UserId,
        display_name: Option<&str>,
        profile: &Profile,
        now: Millis,
        event: &AuditEvent,
    ) -> Result<Option<User>, StoreError> {
        let done = self.transaction(|c| {
            users::set_profile(c, id, display_name, profile, now)?;
            audit::append(c, event)?;
            users::find_by_id(c, id)?.ok_or(Abort::Refused(()))
        });
        Ok(settle(done)?.ok())
    }

    fn remove_second_factors(
        &self,
        user_id: &str,
        record: impl FnOnce(&RemovedFactors) -> AuditEvent,
    ) -> Result<RemovedFactors, StoreError> {
        Ok(self.transaction(|c| {
            let (totp, recovery_codes) = second_factors::remove_all(c, user_id)?;
            let removed = RemovedFactors {
                passkeys: passkeys::remove_all(c, user_id)?,
                totp,
                recovery_codes,
            };
            audit::append(c, &record(&removed))?;
            Ok::<_, StorageError>(removed)
        })?)
    }
}
