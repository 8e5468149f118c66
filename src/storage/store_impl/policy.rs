//! [`PolicyStore`] for the database: each change bumps the version (which
//! every node polls) in the transaction of its audit record.

use super::refusal::{Abort, settle};
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::storage::{AnyConnection, Database, StorageError, audit, policy};
use crate::store::policy::{GrantRefused, PolicyRow, RoleGrant};
use crate::store::{PolicyStore, StoreError};

/// Assign a role inside the caller's transaction: the rule, the version bump
/// and the `policy.grant` record (shared with `create_user`, which creates an
/// account and its first role together).
pub(super) fn grant_in(
    c: &mut AnyConnection,
    grant: &RoleGrant<'_>,
) -> Result<i64, Abort<GrantRefused>> {
    // A role with no permission in the tenant is a typo, or a role of another tenant.
    if !policy::role_exists(c, grant.role, grant.tenant)? {
        return Err(Abort::Refused(GrantRefused::NoSuchRole));
    }
    let version = policy::add(c, grant.rule, grant.now).map_err(|e| match e {
        StorageError::Conflict(_) => Abort::Refused(GrantRefused::AlreadyGranted),
        other => other.into(),
    })?;
    audit::append(c, &(grant.audit)(version))?;
    Ok(version)
}

impl PolicyStore for Database {
    fn policy_version(&self) -> Result<i64, StoreError> {
        Ok(policy::version(&mut *self.conn()?)?)
    }

    fn policy(
        &self,
        record: impl FnOnce(i64, usize) -> AuditEvent,
    ) -> Result<(i64, Vec<PolicyRow>), StoreError> {
        Ok(self.transaction(|c| {
            let (version, rows) = policy::load(c)?;
            audit::append(c, &record(version, rows.len()))?;
            Ok::<_, StorageError>((version, rows))
        })?)
    }

    fn replace_policy(
        &self,
        rows: &[PolicyRow],
        now: Millis,
        record: impl FnOnce(i64, i64) -> AuditEvent,
    ) -> Result<i64, StoreError> {
        Ok(self.transaction(|c| {
            let replaced = policy::count(c)?;
            let version = policy::replace_all(c, rows, now)?;
            audit::append(c, &record(replaced, version))?;
            Ok::<_, StorageError>(version)
        })?)
    }

    fn grant_role(&self, grant: &RoleGrant<'_>) -> Result<Result<i64, GrantRefused>, StoreError> {
        settle(self.transaction(|c| grant_in(c, grant)))
    }

    fn revoke_role(
        &self,
        rule: &PolicyRow,
        now: Millis,
        record: impl FnOnce(i64) -> AuditEvent,
    ) -> Result<Option<i64>, StoreError> {
        let done = self.transaction(|c| {
            let version = policy::remove(c, rule, now).map_err(|e| match e {
                StorageError::NotFound => Abort::Refused(()),
                other => other.into(),
            })?;
            audit::append(c, &record(version))?;
            Ok::<_, Abort<()>>(version)
        });
        Ok(settle(done)?.ok())
    }

    fn seed_policy(
        &self,
        rows: &[PolicyRow],
        now: Millis,
        record: impl FnOnce(i64) -> AuditEvent,
    ) -> Result<bool, StoreError> {
        Ok(self.transaction(|c| {
            let seeded = policy::seed_if_empty(c, rows, now)?;
            if seeded {
                let version = policy::version(c)?;
                audit::append(c, &record(version))?;
            }
            Ok::<_, StorageError>(seeded)
        })?)
    }
}
