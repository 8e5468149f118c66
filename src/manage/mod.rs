//! Administrative operations on users, clients, keys, the authorization policy
//! and the audit trail.
//!
//! Each operation validates its input, makes its change and writes its audit
//! record in one transaction, and is shared by the CLI and the admin API. No
//! HTTP and no SQL here: each change is one method of a `store` trait
//! (`UserAdminStore`, `ClientAdminStore`, `PolicyStore`, ...) on `ctx.db`,
//! given the audit record to write with it.

pub mod activity;
pub mod approvals;
pub mod audit_log;
pub mod break_glass;
pub mod client_privacy;
pub mod client_secret;
pub mod clients;
pub mod consents;
pub mod disclosures;
pub mod erasure;
pub mod export;
pub mod fhir;
pub mod keys;
pub mod policy;
pub mod search;
pub mod sector;
pub mod sessions;
pub mod users;

use crate::audit::{AuditEvent, Outcome};
use crate::context::{AppContext, KeyLoadError};
use crate::credentials::password::{PasswordError, PasswordPolicyError};
use crate::crypto::keyring::KeyringError;
use crate::crypto::signing::SigningError;
use crate::domain::InvalidValue;
use crate::storage::{self, StorageError};
use crate::store::AuditLogStore;

#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    #[error(transparent)]
    Policy(#[from] PasswordPolicyError),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// Refused by a rule (break-glass without fresh strong sign-in, say); the message says why.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Internal(String),
}

impl From<PasswordError> for ManageError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Policy(p) => Self::Policy(p),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<KeyLoadError> for ManageError {
    fn from(e: KeyLoadError) -> Self {
        match e {
            KeyLoadError::Store(e) => e.into(),
            KeyLoadError::Corrupt(what) => {
                Self::Internal(format!("stored data is inconsistent: {what}"))
            }
            KeyLoadError::Keyring(e) => Self::Keyring(e),
            KeyLoadError::Signing(e) => Self::Signing(e),
        }
    }
}

impl From<crate::store::StoreError> for ManageError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Unavailable => Self::Storage(StorageError::Unavailable(
                "the database is unavailable".into(),
            )),
            crate::store::StoreError::Internal(why) => Self::Internal(why),
        }
    }
}

impl ManageError {
    /// The database is not answering (restarting, say): worth a retry.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Storage(StorageError::Unavailable(_)))
    }

    /// A stable reason code for the audit record of a refused operation.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_input",
            Self::Policy(PasswordPolicyError::TooShort) => "password_too_short",
            Self::Policy(PasswordPolicyError::TooLong) => "password_too_long",
            Self::Policy(PasswordPolicyError::Common) => "password_common",
            Self::Conflict(_) => "duplicate",
            Self::NotFound(_) => "not_found",
            Self::Refused(_) => "refused",
            _ => "internal_error",
        }
    }
}

/// Record a refused operation in its own transaction (the operation itself wrote
/// nothing). Best effort: if the database is down, the original error matters more.
pub(crate) fn audit_refusal(ctx: &AppContext, event: AuditEvent, error: &ManageError) {
    let event = AuditEvent {
        outcome: Outcome::Failure,
        reason: Some(error.reason_code().to_string()),
        ..event
    };
    if let Err(e) = ctx.db.record_audit(&event) {
        tracing::warn!(error = %e, "could not record a refused operation in the audit trail");
    }
}

/// Run an operation; if it fails, record the refusal.
pub(crate) fn audited<T>(
    ctx: &AppContext,
    refusal: impl FnOnce() -> AuditEvent,
    op: impl FnOnce() -> Result<T, ManageError>,
) -> Result<T, ManageError> {
    op().inspect_err(|e| {
        if !matches!(e, ManageError::Storage(StorageError::Unavailable(_))) {
            audit_refusal(ctx, refusal(), e);
        }
    })
}

/// The process-wide database counters (statements executed, transactions
/// committed), for the metrics endpoint.
pub fn database_counters() -> (u64, u64) {
    (
        storage::connection::statements_executed(),
        storage::connection::transactions_committed(),
    )
}

/// The records the operations return, for the callers that show them (the
/// admin API), which name no storage module.
pub mod records {
    pub use crate::domain::consent::ConsentRecord;
    pub use crate::domain::records::{Client, User};
    pub use crate::store::approvals::Approval;
    pub use crate::store::consents::Withdrawal;
    pub use crate::store::elevations::Elevation;
    pub use crate::store::smart::FhirServer;
}
