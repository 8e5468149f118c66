//! Authorization requests waiting for their user, or pushed by a client (PAR).

use super::StoreError;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::ClientId;

/// A validated authorization request waiting for its user (or pushed by a client).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthRequestRow {
    pub id_hash: String,
    pub client_id: ClientId,
    /// The validated request, as JSON (see `authorize::AuthorizationRequest`).
    pub params: String,
    pub pushed: bool,
    pub browser_hash: Option<String>,
    pub created_at: Millis,
    pub expires_at: Millis,
}

pub trait AuthRequestStore {
    fn save_auth_request(&self, row: &AuthRequestRow) -> Result<(), StoreError>;
    /// A live (unused, unexpired) request.
    fn auth_request(
        &self,
        id_hash: &str,
        now: Millis,
    ) -> Result<Option<AuthRequestRow>, StoreError>;
    /// Replace a live request's parameters (a choice the user made, like the tenant).
    fn update_auth_request(&self, id_hash: &str, params: &str) -> Result<(), StoreError>;
    /// [`Self::update_auth_request`] and its audit record in one transaction
    /// (a SMART launch's patient or encounter chosen on the picker). False,
    /// with nothing written, when the request is no longer live (used).
    fn update_auth_request_audited(
        &self,
        id_hash: &str,
        params: &str,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
    /// Mark a request used; false if it was already used (single use).
    fn use_auth_request(&self, id_hash: &str, now: Millis) -> Result<bool, StoreError>;
}
