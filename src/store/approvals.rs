//! Dual control: a change one administrator asks for and a second one
//! approves (granting `ward-admin`, docs/admin-api.md "Dual control").

use serde::Serialize;

use super::StoreError;
use super::policy::{GrantRefused, RoleGrant};
use crate::audit::AuditEvent;
use crate::clock::Millis;

/// One request for a second administrator's approval, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Approval {
    pub id: String,
    /// What is asked for: `role.grant`.
    pub kind: String,
    /// The user the change is about.
    pub subject: String,
    /// What exactly, as JSON (for `role.grant`: `role` and `tenant`).
    pub details: serde_json::Value,
    /// The audit name of who asked (`user:<id>`).
    pub requested_by: String,
    pub requested_at: Millis,
    pub expires_at: Millis,
    pub decided_by: Option<String>,
    pub decided_at: Option<Millis>,
    /// `approved` or `rejected`.
    pub decision: Option<String>,
}

impl Approval {
    /// Still waiting for a decision at `now`.
    pub fn is_open(&self, now: Millis) -> bool {
        self.decided_at.is_none() && self.expires_at > now
    }
}

/// Why an approval did not go through (nothing written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApproveRefused {
    /// Decided meanwhile, or expired.
    NotOpen,
    /// The change itself was refused when it was made.
    Grant(GrantRefused),
}

pub trait ApprovalStore {
    /// Store a new request with its audit record.
    fn request_approval(&self, approval: &Approval, audit: &AuditEvent) -> Result<(), StoreError>;
    fn approval(&self, id: &str) -> Result<Option<Approval>, StoreError>;
    /// Requests, newest first; only those still open at `now` when `open_at` is given.
    fn approvals(&self, open_at: Option<Millis>, limit: i64) -> Result<Vec<Approval>, StoreError>;
    /// Approve a `role.grant` and make the grant, in one transaction with the
    /// approval's record; the policy version holding the change.
    fn approve_role_grant(
        &self,
        id: &str,
        approver: &str,
        grant: &RoleGrant<'_>,
        audit: &AuditEvent,
    ) -> Result<Result<i64, ApproveRefused>, StoreError>;
    /// Reject an open request with its record; false (nothing written) if it was not open.
    fn reject_approval(
        &self,
        id: &str,
        by: &str,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
}
