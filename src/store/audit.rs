//! Audit records that accompany no other write.

use super::StoreError;
use crate::audit::AuditEvent;

pub trait AuditStore {
    /// Record an event that accompanies no other write (e.g. a client_credentials
    /// issuance); may be group-committed with others, durable when this returns.
    fn audit(&self, event: AuditEvent) -> Result<(), StoreError>;
}
