//! [`SessionAdminStore`] for the database.

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::SessionId;
use crate::storage::{Database, StorageError, audit, sessions};
use crate::store::admin_sessions::SweepGroup;
use crate::store::{SessionAdminStore, SessionRow, StoreError};

impl SessionAdminStore for Database {
    fn session_hashes_at(&self, user_id: &str, at: Millis) -> Result<Vec<SessionId>, StoreError> {
        Ok(sessions::hashes_at(&mut *self.conn()?, user_id, at)?)
    }

    fn session_hashes(&self, user_id: &str) -> Result<Vec<SessionId>, StoreError> {
        Ok(sessions::hashes_for_user(&mut *self.conn()?, user_id)?)
    }

    fn open_session_hashes(
        &self,
        user_id: &str,
        now: Millis,
    ) -> Result<Vec<SessionId>, StoreError> {
        Ok(sessions::open_for_user(&mut *self.conn()?, user_id, now)?)
    }

    fn user_sessions(
        &self,
        user_id: &str,
        before: Option<(Millis, &SessionId)>,
        limit: i64,
        record: impl FnOnce(&[SessionRow]) -> AuditEvent,
    ) -> Result<Vec<SessionRow>, StoreError> {
        Ok(self.transaction(|c| {
            let rows = sessions::for_user(c, user_id, before, limit)?;
            audit::append(c, &record(&rows))?;
            Ok::<_, StorageError>(rows)
        })?)
    }

    fn timeout_candidates(
        &self,
        now: Millis,
        groups: &[SweepGroup<'_>],
        limit: i64,
    ) -> Result<Vec<SessionRow>, StoreError> {
        let mut c = self.conn()?;
        Ok(sessions::timeout_candidates(&mut c, now, groups, limit)?)
    }

    fn open_session_levels(&self, now: Millis) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sessions::open_levels(&mut *self.conn()?, now)?)
    }
}
