//! [`SessionStore`] for the database: each change lands with its audit record.

use diesel::prelude::*;

use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::{SessionId, UserId};
use crate::storage::schema::sessions;
use crate::storage::{Database, StorageError, audit};
use crate::store::{SessionRow, SessionStore, StoreError};

impl SessionStore for Database {
    fn create_session(
        &self,
        s: &SessionRow,
        replaces: Option<&SessionId>,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.transaction(|c| {
            // A new sign-in in this browser ends its previous session (no two live sessions per browser).
            if let Some(old) = replaces {
                // The browser's previous session ends, with its grants and notifications.
                crate::storage::sessions::end(c, old, s.created_at)?;
            }
            crate::storage::sessions::insert(c, s)?;
            audit::append(c, event)
        })?;
        Ok(())
    }

    fn session(&self, id: &SessionId) -> Result<Option<SessionRow>, StoreError> {
        Ok(crate::storage::sessions::get(&mut *self.conn()?, id)?)
    }

    fn touch_session(&self, id: &SessionId, now: Millis) -> Result<(), StoreError> {
        diesel::update(sessions::table.find(id.as_str()))
            .set(sessions::last_seen_at.eq(now))
            .execute(&mut *self.conn()?)?;
        Ok(())
    }

    fn mark_session_shared(&self, id: &SessionId) -> Result<(), StoreError> {
        Ok(crate::storage::sessions::mark_shared(
            &mut *self.conn()?,
            id,
        )?)
    }

    fn end_session(
        &self,
        id: &SessionId,
        now: Millis,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        Ok(self.transaction(|c| {
            let ended = crate::storage::sessions::end(c, id, now)?;
            if ended {
                audit::append(c, event)?;
            }
            Ok::<_, StorageError>(ended)
        })?)
    }

    fn user_sessions(&self, user_id: &UserId, limit: i64) -> Result<Vec<SessionRow>, StoreError> {
        let c = &mut *self.conn()?;
        Ok(crate::storage::sessions::for_user(
            c,
            user_id.as_str(),
            None,
            limit,
        )?)
    }
}
