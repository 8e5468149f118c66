//! [`DisclosureStore`] and [`DisclosureAdminStore`] for the database.

use crate::audit::AuditEvent;
use crate::domain::disclosure::{Before, Disclosure};
use crate::storage::{Database, StorageError, audit, disclosures};
use crate::store::StoreError;
use crate::store::disclosures::{DisclosureAdminStore, DisclosureStore};

impl DisclosureStore for Database {
    fn disclose(&self, disclosure: Disclosure) -> Result<(), StoreError> {
        Ok(self.append_disclosure_batched(disclosure)?)
    }
}

impl DisclosureAdminStore for Database {
    fn user_disclosures(
        &self,
        user_id: &str,
        before: Option<&Before>,
        limit: i64,
        event: Option<&AuditEvent>,
    ) -> Result<Vec<Disclosure>, StoreError> {
        let Some(event) = event else {
            return Ok(disclosures::of_user(
                &mut *self.conn()?,
                user_id,
                before,
                limit,
            )?);
        };
        Ok(self.transaction(|c| {
            let list = disclosures::of_user(c, user_id, before, limit)?;
            audit::append(c, event)?;
            Ok::<_, StorageError>(list)
        })?)
    }
}
