//! Client registrations, for administrators. Each change lands with its
//! audit record in one transaction; a refused change writes nothing.

use super::StoreError;
use crate::audit::AuditEvent;
use crate::domain::ClientId;
use crate::domain::records::Client;

pub trait ClientAdminStore {
    /// Register a client with its audit record; false (nothing written) if
    /// the client id is taken.
    fn create_client(&self, client: &Client, audit: &AuditEvent) -> Result<bool, StoreError>;
    /// A client, read with its audit record; None (nothing written) if there is none.
    fn view_client(&self, id: &ClientId, audit: &AuditEvent) -> Result<Option<Client>, StoreError>;
    /// Every client, with the audit record `audit` makes of the list.
    fn list_clients(
        &self,
        audit: impl FnOnce(&[Client]) -> AuditEvent,
    ) -> Result<Vec<Client>, StoreError>;
    /// Store a client's new purpose text and claims allow-list (the rest of
    /// `client` is not written) with its audit record; false (nothing
    /// written) if there is no such client.
    fn set_client_privacy(&self, client: &Client, audit: &AuditEvent) -> Result<bool, StoreError>;
    /// Delete a client with its audit record; false (nothing written) if there is none.
    fn remove_client(&self, id: &ClientId, audit: &AuditEvent) -> Result<bool, StoreError>;
    /// Replace the secret hash of a client that has a secret (a
    /// confidential client without keys) with its audit record; false
    /// (nothing written) if there is no such client.
    fn rotate_client_secret(
        &self,
        id: &ClientId,
        secret_hash: &str,
        now: crate::clock::Millis,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
}
