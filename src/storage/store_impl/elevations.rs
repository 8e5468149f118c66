//! [`ElevationStore`] for the database.

use super::refusal::{Abort, settle};
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::storage::{Database, StorageError, audit, break_glass};
use crate::store::elevations::Elevation;
use crate::store::{ElevationStore, StoreError};

impl From<break_glass::Elevation> for Elevation {
    fn from(e: break_glass::Elevation) -> Self {
        Self {
            id: e.id,
            user_id: e.user_id,
            tenant: e.tenant,
            reason: e.reason,
            started_at: e.started_at,
            expires_at: e.expires_at,
            reviewed_by: e.reviewed_by,
            reviewed_at: e.reviewed_at,
            review_note: e.review_note,
        }
    }
}

fn row(e: &Elevation) -> break_glass::Elevation {
    break_glass::Elevation {
        id: e.id.clone(),
        user_id: e.user_id.clone(),
        tenant: e.tenant.clone(),
        reason: e.reason.clone(),
        started_at: e.started_at,
        expires_at: e.expires_at,
        reviewed_by: e.reviewed_by.clone(),
        reviewed_at: e.reviewed_at,
        review_note: e.review_note.clone(),
    }
}

impl ElevationStore for Database {
    fn start_elevation(&self, e: &Elevation, event: &AuditEvent) -> Result<(), StoreError> {
        let row = row(e);
        Ok(self.transaction(|c| {
            break_glass::insert(c, &row)?;
            audit::append(c, event)
        })?)
    }

    fn elevations(
        &self,
        pending: bool,
        limit: i64,
        event: &AuditEvent,
    ) -> Result<Vec<Elevation>, StoreError> {
        let list = self.transaction(|c| {
            let list = break_glass::list(c, pending, limit)?;
            audit::append(c, event)?;
            Ok::<_, StorageError>(list)
        })?;
        Ok(list.into_iter().map(Elevation::from).collect())
    }

    fn elevation(&self, id: &str) -> Result<Option<Elevation>, StoreError> {
        Ok(break_glass::find(&mut *self.conn()?, id)?.map(Elevation::from))
    }

    fn review_elevation(
        &self,
        id: &str,
        reviewer_id: &str,
        note: &str,
        now: Millis,
        event: &AuditEvent,
    ) -> Result<Option<Elevation>, StoreError> {
        let done = self.transaction(|c| {
            if !break_glass::review(c, id, reviewer_id, note, now)? {
                return Err(Abort::Refused(()));
            }
            audit::append(c, event)?;
            break_glass::find(c, id)?.ok_or(Abort::Refused(()))
        });
        Ok(settle(done)?.ok().map(Elevation::from))
    }
}
