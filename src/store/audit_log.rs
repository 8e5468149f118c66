//! The audit trail for administrators: standalone records, sealing, and
//! reading the trail back (verify, tail, query, export).

use super::StoreError;
use crate::audit::{AuditEvent, AuditRecord};
use crate::clock::Millis;

/// What the sealer knows of the person a pending record is about
/// (`audit::sealed::person_of`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Person {
    /// Their data key, sealed by the keyring.
    Key(String),
    /// They were erased: the record is chained in its erased form.
    Erased,
    /// An account without a key, and a sealer that cannot make one: the
    /// record waits.
    Unkeyed,
    /// No such account (and never erased): the record stays as written.
    Absent,
}

/// Rewrites the personal part of each record before the sealer hashes it
/// (crypto-shredding, docs/audit.md "Sealed records").
pub trait RecordSealer {
    /// A new data key for `user_id`, sealed by the keyring; None when this
    /// sealer holds no keyring (`ward migrate`): records about people wait.
    fn new_key(&self, user_id: &str) -> Option<String>;
    /// Rewrite `record` for `person`; false when it cannot (its key does not
    /// open): the batch stops before it, and it waits.
    fn protect(&self, record: &mut AuditRecord, person: &str, state: &Person) -> bool;
}

/// The sealer of `ward migrate`, which has no master key: it chains records
/// about nobody and leaves the others for the server.
pub struct WithoutKeys;

impl RecordSealer for WithoutKeys {
    fn new_key(&self, _user_id: &str) -> Option<String> {
        None
    }

    fn protect(&self, _record: &mut AuditRecord, _person: &str, state: &Person) -> bool {
        *state == Person::Absent
    }
}

pub trait AuditLogStore {
    /// Write one record in a transaction of its own (an event that
    /// accompanies no other change, or the refusal of an operation).
    fn record_audit(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// Chain up to `limit` pending records, each rewritten by `sealer` first;
    /// how many were sealed (0 when another node holds the sealer lock).
    fn seal_audit(
        &self,
        limit: i64,
        now: Millis,
        sealer: &dyn RecordSealer,
    ) -> Result<usize, StoreError>;
    /// Sealed records with `seq > after`, in chain order, as stored.
    fn sealed_audit_after(&self, after: i64, limit: i64) -> Result<Vec<AuditRecord>, StoreError>;
    /// Records with `id > after`, in insertion order (export), as stored.
    fn audit_after_id(&self, after: i64, limit: i64) -> Result<Vec<AuditRecord>, StoreError>;
    /// The newest `n` records, oldest first, as stored.
    fn audit_tail(&self, n: i64) -> Result<Vec<AuditRecord>, StoreError>;
    /// Records of an event type and/or about a user: after `after_id` oldest
    /// first, without it the newest first; as stored.
    fn audit_query(
        &self,
        event_type: Option<&str>,
        subject: Option<&str>,
        after_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError>;
    /// How many records wait to be sealed.
    fn pending_audit_count(&self) -> Result<i64, StoreError>;
    /// The sealed data keys of those of `user_ids` that still have one.
    fn data_keys(&self, user_ids: &[String]) -> Result<Vec<(String, String)>, StoreError>;
}
