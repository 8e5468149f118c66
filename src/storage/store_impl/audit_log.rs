//! [`AuditLogStore`] for the database.

use crate::audit::{AuditEvent, AuditRecord};
use crate::clock::Millis;
use crate::storage::{Database, audit, erasure};
use crate::store::audit_log::RecordSealer;
use crate::store::{AuditLogStore, StoreError};

impl AuditLogStore for Database {
    fn record_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        Ok(self.transaction(|c| audit::append(c, event))?)
    }

    fn seal_audit(
        &self,
        limit: i64,
        now: Millis,
        sealer: &dyn RecordSealer,
    ) -> Result<usize, StoreError> {
        Ok(audit::seal_pending(self, limit, now, sealer)?)
    }

    fn sealed_audit_after(&self, after: i64, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(audit::sealed_after(&mut *self.conn()?, after, limit)?)
    }

    fn audit_after_id(&self, after: i64, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(audit::after_id(&mut *self.conn()?, after, limit)?)
    }

    fn audit_tail(&self, n: i64) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(audit::tail(&mut *self.conn()?, n)?)
    }

    fn audit_query(
        &self,
        event_type: Option<&str>,
        subject: Option<&str>,
        after_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut c = self.conn()?;
        Ok(audit::query(&mut c, event_type, subject, after_id, limit)?)
    }

    fn pending_audit_count(&self) -> Result<i64, StoreError> {
        Ok(audit::count_pending(&mut *self.conn()?)?)
    }

    fn data_keys(&self, user_ids: &[String]) -> Result<Vec<(String, String)>, StoreError> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(erasure::data_keys(&mut *self.conn()?, user_ids)?)
    }
}
