//! [`ErasureStore`] for the database.

use diesel::connection::SimpleConnection;

use super::refusal::{Abort, settle};
use crate::audit::AuditEvent;
use crate::storage::erasure::{self, ErasureRow};
use crate::storage::{AnyConnection, Database, StorageError, approvals, audit, users};
use crate::store::erasure::{EraseRefused, Erased, Erasure, LegalHold};
use crate::store::{ErasureStore, StoreError};

impl ErasureStore for Database {
    fn erase_user(
        &self,
        e: &Erasure<'_>,
        event: &AuditEvent,
        approved: Option<&AuditEvent>,
    ) -> Result<Result<Erased, EraseRefused>, StoreError> {
        let uid = e.user_id.as_str();
        let done = self.transaction(|c| {
            if users::find_by_id(c, e.user_id)?.is_none() {
                return Err(Abort::Refused(EraseRefused::NoUser));
            }
            if let Some(hold) = erasure::hold(c, uid)? {
                return Err(Abort::Refused(EraseRefused::OnHold(hold)));
            }
            let (role, tenant) = e.guarded_role;
            if erasure::last_holder(c, uid, role, tenant)? {
                return Err(Abort::Refused(EraseRefused::LastAdmin));
            }
            if let (Some((id, by)), Some(record)) = (e.approval, approved) {
                if !approvals::decide(c, id, by, "approved", e.now)? {
                    return Err(Abort::Refused(EraseRefused::NotOpen));
                }
                audit::append(c, record)?;
            }
            let row = ErasureRow {
                user_id: uid,
                username: e.username,
                erased_at: e.now,
                erased_by: e.erased_by,
                approved_by: e.approval.map(|(_, by)| by),
                reason: e.reason,
            };
            let erased = erasure::erase(c, &row)?;
            audit::append(c, event)?;
            Ok(erased)
        });
        settle(done)
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        if matches!(&*c, AnyConnection::Sqlite(_)) {
            c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")
                .map_err(StorageError::from)?;
        }
        Ok(())
    }

    fn legal_hold(&self, user_id: &str) -> Result<Option<LegalHold>, StoreError> {
        Ok(erasure::hold(&mut *self.conn()?, user_id)?)
    }

    fn place_hold(&self, hold: &LegalHold, event: &AuditEvent) -> Result<bool, StoreError> {
        let done = self.transaction(|c| {
            if !erasure::place_hold(c, hold)? {
                return Err(Abort::Refused(()));
            }
            audit::append(c, event)?;
            Ok(())
        });
        Ok(settle(done)?.is_ok())
    }

    fn release_hold(&self, user_id: &str, event: &AuditEvent) -> Result<bool, StoreError> {
        let done = self.transaction(|c| {
            if !erasure::release_hold(c, user_id)? {
                return Err(Abort::Refused(()));
            }
            audit::append(c, event)?;
            Ok(())
        });
        Ok(settle(done)?.is_ok())
    }
}
