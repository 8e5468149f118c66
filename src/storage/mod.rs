//! Persistence with diesel on SQLite (embedded default) or PostgreSQL.
//!
//! The only module that imports diesel. Repository functions take
//! `&mut AnyConnection` so that a change and its audit record share one
//! transaction ([`Database::transaction`]); callers in async code go through
//! [`Database::run`], which moves the work to the blocking pool.

pub mod approvals;
pub mod audit;
pub mod audit_batch;
pub mod break_glass;
pub mod client_cache;
pub mod clients;
pub mod connection;
pub mod consents;
pub mod disclosures;
pub mod email_codes;
pub mod erasure;
pub mod file_lock;
pub mod group_commit;
pub mod login_progress;
pub mod logout_outbox;
pub mod meta;
pub mod migrations;
pub mod passkeys;
pub mod policy;
pub mod purge;
pub mod risk_history;
pub mod schema;
pub mod second_factors;
pub mod secrets;
pub mod sessions;
pub mod signing_keys;
pub mod sqlite_backup;
mod store_impl;
pub mod throttle;
pub mod users;

pub use connection::{AnyConnection, Database};

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Run one query-builder expression on the concrete connection of either
/// dialect. Needed for `ON CONFLICT`, which SQLite and PostgreSQL both have but
/// diesel's multi-backend connection does not offer. A write that may meet an
/// existing row says so in the statement (`ON CONFLICT DO NOTHING`) instead of
/// looking first: look-then-insert races between requests, and on PostgreSQL the
/// losing unique violation aborts the whole transaction.
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::storage::AnyConnection::Postgres($c) => $body,
            $crate::storage::AnyConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// `const NAME: (table::a, table::b, …) = (table::a, table::b, …);`: the
/// columns a query selects into a tuple, named once, in the order the tuple's
/// reader takes them.
macro_rules! columns {
    ($name:ident = $table:ident($($column:ident),+ $(,)?)) => {
        const $name: ($($table::$column,)+) = ($($table::$column,)+);
    };
}
pub(crate) use columns;

/// Can `key` name a stored row? PostgreSQL text cannot hold NUL (a query with one
/// fails with an encoding error, a 500), and nothing Ward stores contains one, so
/// a lookup by a key from outside (a client id from HTTP Basic, a path segment)
/// that holds NUL finds nothing, on both databases alike.
pub(crate) fn storable_key(key: &str) -> bool {
    !key.contains('\0')
}

/// What can go wrong in storage, with nothing of SQL in the message shown to users.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("the database is unreachable: {0}")]
    Unavailable(String),
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("not found")]
    NotFound,
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database error")]
    Query(#[source] DieselError),
}

impl From<DieselError> for StorageError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::Conflict("a record with that key")
            }
            // The connection died (a database restart or a network cut): the
            // pool replaces it; the caller may retry (503, not 500).
            ref other if is_connection_failure(other) => {
                tracing::warn!(error = %other, "database connection lost");
                Self::Unavailable("the database connection was lost".into())
            }
            other => {
                // The user sees "database error"; operators need the cause.
                tracing::error!(error = %other, "database query failed");
                Self::Query(other)
            }
        }
    }
}

/// An error that says the connection itself is gone, not that the statement was wrong.
pub(crate) fn is_connection_failure(e: &DieselError) -> bool {
    matches!(
        e,
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        ) | DieselError::BrokenTransactionManager
    )
}

/// Map a unique violation to a conflict that names what was duplicated.
pub(crate) fn conflict_as(what: &'static str) -> impl Fn(DieselError) -> StorageError {
    move |e| match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            StorageError::Conflict(what)
        }
        other => other.into(),
    }
}

/// JSON text column holding a list of strings.
pub(crate) fn to_json_list(values: &[String]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn from_json_list(column: &str, text: &str) -> Result<Vec<String>, StorageError> {
    serde_json::from_str(text)
        .map_err(|_| StorageError::Corrupt(format!("{column} is not a JSON list")))
}

/// A JSON list column of vocabulary values (amr, grant types), read into
/// their domain type; a value Ward does not know is a corrupt row.
pub(crate) fn from_typed_list<T: serde::de::DeserializeOwned>(
    column: &str,
    text: &str,
) -> Result<Vec<T>, StorageError> {
    serde_json::from_str(text)
        .map_err(|_| StorageError::Corrupt(format!("{column} is not a list of values Ward knows")))
}

/// The JSON text of a list of vocabulary values (each serialises as its string).
pub(crate) fn to_typed_list<T: serde::Serialize>(values: &[T]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

/// A stored user id (a UUID); anything else is a corrupt row.
pub(crate) fn parse_user_id(
    column: &str,
    text: &str,
) -> Result<crate::domain::UserId, StorageError> {
    crate::domain::UserId::parse(text)
        .ok_or_else(|| StorageError::Corrupt(format!("{column} is not a UUID")))
}

/// A stored client id, exactly as registered; anything `domain::ClientId`
/// refuses is a corrupt row, never a client.
pub(crate) fn parse_client_id(
    column: &str,
    text: &str,
) -> Result<crate::domain::ClientId, StorageError> {
    crate::domain::ClientId::exact(text)
        .ok_or_else(|| StorageError::Corrupt(format!("{column} is not a client_id")))
}

/// A stored acr; a value Ward does not issue is a corrupt row, not a weaker one.
pub(crate) fn parse_acr(column: &str, text: &str) -> Result<crate::domain::Acr, StorageError> {
    crate::domain::Acr::parse(text)
        .map_err(|_| StorageError::Corrupt(format!("{column} is not an acr Ward issues")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_client_id_is_read_exactly_or_is_a_corrupt_row() {
        let id = parse_client_id("grants.client_id", "app").unwrap();
        assert_eq!(id.as_str(), "app");
        for bad in [" app", "", "a b", "0b5f2a3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c"] {
            match parse_client_id("grants.client_id", bad) {
                Err(StorageError::Corrupt(what)) => {
                    assert_eq!(what, "grants.client_id is not a client_id", "{bad:?}")
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
