//! [`ApprovalStore`] for the database: an approval and the change it lets
//! through are one transaction.

use super::policy::grant_in;
use super::refusal::{Abort, settle};
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::storage::{Database, StorageError, approvals, audit};
use crate::store::approvals::{Approval, ApproveRefused};
use crate::store::policy::RoleGrant;
use crate::store::{ApprovalStore, StoreError};

impl ApprovalStore for Database {
    fn request_approval(&self, a: &Approval, event: &AuditEvent) -> Result<(), StoreError> {
        Ok(self.transaction(|c| {
            approvals::insert(c, a)?;
            audit::append(c, event)
        })?)
    }

    fn approval(&self, id: &str) -> Result<Option<Approval>, StoreError> {
        Ok(approvals::find(&mut *self.conn()?, id)?)
    }

    fn approvals(&self, open_at: Option<Millis>, limit: i64) -> Result<Vec<Approval>, StoreError> {
        Ok(approvals::list(&mut *self.conn()?, open_at, limit)?)
    }

    fn approve_role_grant(
        &self,
        id: &str,
        approver: &str,
        grant: &RoleGrant<'_>,
        event: &AuditEvent,
    ) -> Result<Result<i64, ApproveRefused>, StoreError> {
        settle(self.transaction(|c| {
            if !approvals::decide(c, id, approver, "approved", grant.now)? {
                return Err(Abort::Refused(ApproveRefused::NotOpen));
            }
            let version = grant_in(c, grant).map_err(|a| a.map(ApproveRefused::Grant))?;
            audit::append(c, event)?;
            Ok(version)
        }))
    }

    fn reject_approval(
        &self,
        id: &str,
        by: &str,
        now: Millis,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        Ok(self.transaction(|c| {
            let decided = approvals::decide(c, id, by, "rejected", now)?;
            if decided {
                audit::append(c, event)?;
            }
            Ok::<_, StorageError>(decided)
        })?)
    }
}
