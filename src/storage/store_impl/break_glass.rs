//! [`BreakGlassStore`] for the database.

use crate::clock::Millis;
use crate::storage::Database;
use crate::store::{BreakGlassStore, StoreError};

impl BreakGlassStore for Database {
    fn active_break_glass(
        &self,
        user_id: &str,
        tenant: &str,
        now: Millis,
    ) -> Result<Option<(String, Millis)>, StoreError> {
        Ok(
            crate::storage::break_glass::active(&mut *self.conn()?, user_id, tenant, now)?
                .map(|e| (e.id, e.expires_at)),
        )
    }
}
