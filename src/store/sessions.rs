//! Browser sessions (server-side; the cookie holds only a random id).

use super::StoreError;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::{Acr, Amr, SessionId, UserId};

/// A browser session (server-side; the cookie holds only a random id).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub id_hash: SessionId,
    pub user_id: UserId,
    pub created_at: Millis,
    pub last_seen_at: Millis,
    pub expires_at: Millis,
    pub auth_time: Millis,
    pub acr: Acr,
    pub amr: Vec<Amr>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub ended_at: Option<Millis>,
    /// The hash of the browser's device cookie (docs/risk.md).
    pub device_hash: Option<String>,
    /// When each factor (by amr value) was last proven in this session.
    pub factor_times: std::collections::BTreeMap<Amr, Millis>,
    /// Started on a shared workstation: the shorter idle timeout applies.
    pub shared_workstation: bool,
}

pub trait SessionStore {
    /// Store a new session; `replaces` (the browser's previous session) is ended.
    fn create_session(
        &self,
        row: &SessionRow,
        replaces: Option<&SessionId>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    fn session(&self, id: &SessionId) -> Result<Option<SessionRow>, StoreError>;
    fn touch_session(&self, id: &SessionId, now: Millis) -> Result<(), StoreError>;
    /// Mark a session as running on a shared workstation (shorter idle timeout).
    fn mark_session_shared(&self, id: &SessionId) -> Result<(), StoreError>;
    /// End a session (its grants and back-channel notifications follow) with
    /// its audit record, in one transaction; false if it had already ended.
    fn end_session(
        &self,
        id: &SessionId,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
    /// The user's most recent sessions (live and ended), newest first.
    fn user_sessions(&self, user_id: &UserId, limit: i64) -> Result<Vec<SessionRow>, StoreError>;
}
