//! Break-glass elevations (docs/authorization.md).

use super::StoreError;
use crate::clock::Millis;

pub trait BreakGlassStore {
    /// The user's break-glass elevation in `tenant` in force at `now`: (id, expires_at).
    fn active_break_glass(
        &self,
        user_id: &str,
        tenant: &str,
        now: Millis,
    ) -> Result<Option<(String, Millis)>, StoreError>;
}
