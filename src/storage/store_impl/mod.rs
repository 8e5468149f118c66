//! The `store` traits for the database, one file per trait. Each state change
//! is one transaction (or one statement), so it lands together with its audit
//! record. One implementation serves SQLite and PostgreSQL.

mod account;
mod admin_clients;
mod admin_sessions;
mod admin_users;
mod approvals;
mod audit;
mod audit_log;
mod break_glass;
mod clients;
mod consents;
mod disclosures;
mod elevations;
mod email_codes;
mod erasure;
mod factors;
mod grants;
mod passkeys;
mod policy;
mod progress;
mod refusal;
mod requests;
mod risk;
mod rows;
mod sessions;
mod signing_keys;
mod smart;
mod throttle;
mod users;

use super::StorageError;
use crate::store::StoreError;

impl From<StorageError> for StoreError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Unavailable(_) => Self::Unavailable,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        StorageError::from(e).into()
    }
}
