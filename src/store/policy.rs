//! The authorization policy (Casbin rules) and its version, which every node
//! polls. Each change bumps the version and lands with its audit record.

use super::StoreError;
use crate::audit::AuditEvent;
use crate::clock::Millis;

/// One rule as stored: `ptype` is `p` or `g`; `v3` is empty for `g`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRow {
    pub ptype: String,
    pub v0: String,
    pub v1: String,
    pub v2: String,
    pub v3: String,
}

/// A role to assign in a tenant: the `g` rule and its audit record.
pub struct RoleGrant<'a> {
    /// `g, <user id>, role, tenant`.
    pub rule: &'a PolicyRow,
    pub role: &'a str,
    pub tenant: &'a str,
    pub now: Millis,
    /// The `policy.grant` record, given the policy version that holds the change.
    pub audit: &'a dyn Fn(i64) -> AuditEvent,
}

/// Why a role was not granted (nothing written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantRefused {
    /// The role has no permission in the tenant (a typo, or another tenant's role).
    NoSuchRole,
    /// The user already has the role there.
    AlreadyGranted,
}

pub trait PolicyStore {
    /// The current version: 0 if the policy was never written.
    fn policy_version(&self) -> Result<i64, StoreError>;
    /// The version and every rule, with the audit record `audit` makes of
    /// them (the version and the number of rules).
    fn policy(
        &self,
        audit: impl FnOnce(i64, usize) -> AuditEvent,
    ) -> Result<(i64, Vec<PolicyRow>), StoreError>;
    /// Replace the whole policy (an import), with the audit record `audit`
    /// makes of the number of rules replaced and the new version; returns the version.
    fn replace_policy(
        &self,
        rows: &[PolicyRow],
        now: Millis,
        audit: impl FnOnce(i64, i64) -> AuditEvent,
    ) -> Result<i64, StoreError>;
    /// Assign a role; the new version, or why not.
    fn grant_role(&self, grant: &RoleGrant<'_>) -> Result<Result<i64, GrantRefused>, StoreError>;
    /// Remove an assignment with the audit record `audit` makes of the new
    /// version; None (nothing written) if there was no such assignment.
    fn revoke_role(
        &self,
        rule: &PolicyRow,
        now: Millis,
        audit: impl FnOnce(i64) -> AuditEvent,
    ) -> Result<Option<i64>, StoreError>;
    /// Write `rows` if the policy was never written, with the audit record
    /// `audit` makes of the version; true if this call seeded it.
    fn seed_policy(
        &self,
        rows: &[PolicyRow],
        now: Millis,
        audit: impl FnOnce(i64) -> AuditEvent,
    ) -> Result<bool, StoreError>;
}
