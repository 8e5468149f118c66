//! [`ClientAdminStore`] for the database.

use super::refusal::{Abort, settle};
use crate::audit::AuditEvent;
use crate::domain::ClientId;
use crate::domain::client::CLIENT_SUBJECT_PREFIX;
use crate::domain::records::Client;
use crate::storage::{Database, StorageError, audit, clients, policy};
use crate::store::{ClientAdminStore, StoreError};

impl ClientAdminStore for Database {
    fn create_client(&self, client: &Client, event: &AuditEvent) -> Result<bool, StoreError> {
        let done = self.transaction(|c| {
            clients::insert(c, client).map_err(|e| match e {
                StorageError::Conflict(_) => Abort::Refused(()),
                other => other.into(),
            })?;
            audit::append(c, event)?;
            Ok::<_, Abort<()>>(())
        });
        Ok(settle(done)?.is_ok())
    }

    fn view_client(&self, id: &ClientId, event: &AuditEvent) -> Result<Option<Client>, StoreError> {
        let found = self.transaction(|c| {
            let client = clients::find(c, id.as_str())?.ok_or(Abort::Refused(()))?;
            audit::append(c, event)?;
            Ok::<_, Abort<()>>(client)
        });
        Ok(settle(found)?.ok())
    }

    fn list_clients(
        &self,
        record: impl FnOnce(&[Client]) -> AuditEvent,
    ) -> Result<Vec<Client>, StoreError> {
        Ok(self.transaction(|c| {
            let list = clients::list(c)?;
            audit::append(c, &record(&list))?;
            Ok::<_, StorageError>(list)
        })?)
    }

    fn set_client_privacy(&self, client: &Client, event: &AuditEvent) -> Result<bool, StoreError> {
        let done = self.transaction(|c| {
            if !clients::set_privacy_terms(c, client)? {
                return Err(Abort::Refused(()));
            }
            audit::append(c, event)?;
            Ok::<_, Abort<()>>(())
        });
        Ok(settle(done)?.is_ok())
    }

    fn remove_client(&self, id: &ClientId, event: &AuditEvent) -> Result<bool, StoreError> {
        let done = self.transaction(|c| {
            clients::delete(c, id.as_str()).map_err(|e| match e {
                StorageError::NotFound => Abort::Refused(()),
                other => other.into(),
            })?;
            // Its roles go with it: a client registered later under the same
            // id must not inherit them.
            let subject = format!("{CLIENT_SUBJECT_PREFIX}{id}");
            let removed = policy::remove_assignments_of(c, &subject, event.recorded_at)?;
            audit::append(c, &event.clone().detail("roles_removed", removed))?;
            Ok::<_, Abort<()>>(())
        });
        Ok(settle(done)?.is_ok())
    }

    fn rotate_client_secret(
        &self,
        id: &ClientId,
        secret_hash: &str,
        now: crate::clock::Millis,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let done = self.transaction(|c| {
            if !clients::set_secret_hash(c, id.as_str(), secret_hash, now)? {
                return Err(Abort::Refused(()));
            }
            audit::append(c, event)?;
            Ok::<_, Abort<()>>(())
        });
        Ok(settle(done)?.is_ok())
    }
}
