//! SMART on FHIR: the FHIR servers Ward issues tokens for, EHR launches, and
//! each user's FHIR resource (docs/smart.md).

use super::StoreError;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::ClientId;
use crate::smart::LaunchContext;

/// A registered FHIR server: its base URL (the only `aud` Ward accepts for
/// it) and the tenant whose users sign in for it.
#[derive(Debug, Clone, PartialEq)]
pub struct FhirServer {
    pub id: String,
    pub base_url: String,
    pub tenant: String,
    pub created_at: Millis,
}

/// An EHR launch (`POST /smart/launch`), kept by the hash of its value.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchRow {
    pub launch_hash: String,
    pub tenant: String,
    /// The app the launch is for.
    pub client_id: ClientId,
    /// The EHR client that made it.
    pub ehr_client_id: ClientId,
    /// The EHR's user, when it named one: the user who must sign in.
    pub user_id: Option<String>,
    pub context: LaunchContext,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub used_at: Option<Millis>,
}

/// What the protocol core needs: part of the umbrella `Store`.
pub trait SmartStore {
    /// The FHIR server whose base URL is exactly `base_url`.
    fn fhir_server(&self, base_url: &str) -> Result<Option<FhirServer>, StoreError>;
    /// Store a new launch with its audit record.
    fn create_launch(&self, launch: &LaunchRow, audit: &AuditEvent) -> Result<(), StoreError>;
    fn launch(&self, launch_hash: &str) -> Result<Option<LaunchRow>, StoreError>;
    /// Mark the launch used, with its audit record, if it is unused and
    /// unexpired at `now`; false (nothing written) otherwise. Of two
    /// concurrent uses, exactly one succeeds.
    fn use_launch(
        &self,
        launch_hash: &str,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
    /// The user's FHIR resource (`Patient/123`), if one is set.
    fn fhir_user(&self, user_id: &str) -> Result<Option<String>, StoreError>;
}

/// What `manage::fhir` needs; not part of `Store`. Each change lands with
/// its audit record in one transaction; a refused change writes nothing.
pub trait FhirAdminStore {
    /// Register a server; false (nothing written) if its base URL is taken.
    fn add_fhir_server(&self, server: &FhirServer, audit: &AuditEvent) -> Result<bool, StoreError>;
    /// Every server, ordered by base URL, with the audit record of the list.
    fn list_fhir_servers(
        &self,
        audit: &dyn Fn(&[FhirServer]) -> AuditEvent,
    ) -> Result<Vec<FhirServer>, StoreError>;
    /// Remove the server with this id or base URL; the removed server, or
    /// None (nothing written) when there is none. `audit` makes the record
    /// from the server removed.
    fn remove_fhir_server(
        &self,
        id_or_base_url: &str,
        audit: &dyn Fn(&FhirServer) -> AuditEvent,
    ) -> Result<Option<FhirServer>, StoreError>;
    /// Set or clear a user's FHIR resource; false (nothing written) if there
    /// is no such user.
    fn set_fhir_user(
        &self,
        user_id: &str,
        fhir_user: Option<&str>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
}
