//! The audit trail for administrators: standalone records, sealing, and
//! reading the trail back (verify, tail, query, export).

use super::StoreError;
use crate::audit::{AuditEvent, AuditRecord};
use crate::clock::Millis;

pub trait AuditLogStore {
    /// Write one record in a transaction of its own (an event that
    /// accompanies no other change, or the refusal of an operation).
    fn record_audit(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// Chain up to `limit` pending records; how many were sealed (0 when
    /// another node holds the sealer lock).
    fn seal_audit(&self, limit: i64, now: Millis) -> Result<usize, StoreError>;
    /// Sealed records with `seq > after`, in chain order.
    fn sealed_audit_after(&self, after: i64, limit: i64) -> Result<Vec<AuditRecord>, StoreError>;
    /// Records with `id > after`, in insertion order (export).
    fn audit_after_id(&self, after: i64, limit: i64) -> Result<Vec<AuditRecord>, StoreError>;
    /// The newest `n` records, oldest first.
    fn audit_tail(&self, n: i64) -> Result<Vec<AuditRecord>, StoreError>;
    /// Records of an event type and/or about a user: after `after_id` oldest
    /// first, without it the newest first.
    fn audit_query(
        &self,
        event_type: Option<&str>,
        subject: Option<&str>,
        after_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError>;
    /// How many records wait to be sealed.
    fn pending_audit_count(&self) -> Result<i64, StoreError>;
}
