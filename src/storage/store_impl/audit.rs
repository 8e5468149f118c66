//! [`AuditStore`] for the database: group-committed audit records.

use crate::audit::AuditEvent;
use crate::storage::Database;
use crate::store::{AuditStore, StoreError};

impl AuditStore for Database {
    fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        Ok(self.append_audit_batched(event)?)
    }
}
