//! Break-glass elevations and their review (the emergency access itself is
//! checked through `BreakGlassStore`).

use serde::Serialize;

use super::StoreError;
use crate::audit::AuditEvent;
use crate::clock::Millis;

/// One break-glass elevation, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Elevation {
    pub id: String,
    pub user_id: String,
    pub tenant: String,
    pub reason: String,
    pub started_at: Millis,
    pub expires_at: Millis,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<Millis>,
    pub review_note: Option<String>,
}

pub trait ElevationStore {
    /// Store a new elevation with its audit record.
    fn start_elevation(&self, elevation: &Elevation, audit: &AuditEvent) -> Result<(), StoreError>;
    /// Elevations, newest first (only those awaiting review when `pending`),
    /// read with the audit record of the read.
    fn elevations(
        &self,
        pending: bool,
        limit: i64,
        audit: &AuditEvent,
    ) -> Result<Vec<Elevation>, StoreError>;
    fn elevation(&self, id: &str) -> Result<Option<Elevation>, StoreError>;
    /// Sign an elevation off with its audit record; the reviewed elevation,
    /// or None (nothing written) if it was already reviewed.
    fn review_elevation(
        &self,
        id: &str,
        reviewer_id: &str,
        note: &str,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<Option<Elevation>, StoreError>;
}
