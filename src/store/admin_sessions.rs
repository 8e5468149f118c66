//! Browser sessions as administrators and the timeout sweep see them (ending
//! one goes through `SessionStore::end_session`, via `session::end`).

use super::{SessionRow, StoreError};
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::{Acr, SessionId};

/// Which open sessions a timeout sweep looks at: those of one group
/// (shared workstations, or not; at some acr values, or not) unused for the
/// group's idle timeout.
pub struct SweepGroup<'a> {
    pub shared_workstation: bool,
    pub acr_in: &'a [Acr],
    pub idle_ms: Millis,
}

pub trait SessionAdminStore {
    /// The hashes of the user's sessions created at `at` (a paging cursor names one).
    fn session_hashes_at(&self, user_id: &str, at: Millis) -> Result<Vec<SessionId>, StoreError>;
    /// The hashes of all the user's sessions.
    fn session_hashes(&self, user_id: &str) -> Result<Vec<SessionId>, StoreError>;
    /// The hashes of the user's open sessions.
    fn open_session_hashes(&self, user_id: &str, now: Millis)
    -> Result<Vec<SessionId>, StoreError>;
    /// A page of the user's sessions, newest first, before the `(created_at,
    /// hash)` of the previous page's last one, read with the audit record
    /// `audit` makes of the page.
    fn user_sessions(
        &self,
        user_id: &str,
        before: Option<(Millis, &SessionId)>,
        limit: i64,
        audit: impl FnOnce(&[SessionRow]) -> AuditEvent,
    ) -> Result<Vec<SessionRow>, StoreError>;
    /// Open sessions that may have timed out (past their absolute end, or per
    /// group unused for its idle timeout); at most `limit` of each kind.
    fn timeout_candidates(
        &self,
        now: Millis,
        groups: &[SweepGroup<'_>],
        limit: i64,
    ) -> Result<Vec<SessionRow>, StoreError>;
    /// The user id and `acr` of every open session not past its absolute end.
    fn open_session_levels(&self, now: Millis) -> Result<Vec<(String, String)>, StoreError>;
}
