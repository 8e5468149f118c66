//! [`ElevationStore`] for the database.

use super::refusal::{Abort, settle};
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::storage::{Database, StorageError, audit, break_glass};
use crate::store::elevations::Elevation;
use crate::store::{ElevationStore, StoreError};

impl ElevationStore for Database {
    fn start_elevation(&self, e: &Elevation, event: &AuditEvent) -> Result<(), StoreError> {
        Ok(self.transaction(|c| {
            break_glass::insert(c, e)?;
            audit::append(c, event)
        })?)
    }

    fn elevations(
        &self,
        pending: bool,
        limit: i64,
        event: &AuditEvent,
    ) -> Result<Vec<Elevation>, StoreError> {
        Ok(self.transaction(|c| {
            let list = break_glass::list(c, pending, limit)?;
            audit::append(c, event)?;
            Ok::<_, StorageError>(list)
        })?)
    }

    fn elevation(&self, id: &str) -> Result<Option<Elevation>, StoreError> {
        Ok(break_glass::find(&mut *self.conn()?, id)?)
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
        Ok(settle(done)?.ok())
    }
}
