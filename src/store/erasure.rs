//! Erasure by crypto-shredding and legal holds (docs/privacy.md).

use serde::Serialize;

use super::StoreError;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::UserId;

/// A legal hold on a person: erasure is refused while it is in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegalHold {
    pub user_id: String,
    pub reason: String,
    /// The audit name of who placed it.
    pub placed_by: String,
    pub placed_at: Millis,
}

/// What an erasure removed and queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    pub sessions: usize,
    pub grants: usize,
    /// Back-channel logout notices queued.
    pub notifications: usize,
}

/// An erasure to make.
pub struct Erasure<'a> {
    pub user_id: &'a UserId,
    pub username: &'a str,
    pub now: Millis,
    /// The audit name of who asked.
    pub erased_by: &'a str,
    /// The second administrator, and the approval request they decide.
    pub approval: Option<(&'a str, &'a str)>,
    pub reason: &'a str,
    /// The role and tenant whose last holder may not be erased.
    pub guarded_role: (&'a str, &'a str),
}

/// Why an erasure was refused (nothing written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EraseRefused {
    /// The account is gone (erased meanwhile).
    NoUser,
    OnHold(LegalHold),
    /// The person is the last holder of the guarded role.
    LastAdmin,
    /// The approval was decided meanwhile, or expired.
    NotOpen,
}

pub trait ErasureStore {
    /// Erase a person in one transaction with `audit` (and the approval's
    /// decision with `approved`, when approved by a second administrator).
    fn erase_user(
        &self,
        erasure: &Erasure<'_>,
        audit: &AuditEvent,
        approved: Option<&AuditEvent>,
    ) -> Result<Result<Erased, EraseRefused>, StoreError>;
    /// After an erasure: fold SQLite's write-ahead log into the database and
    /// truncate it, so that the erased bytes are in neither file.
    fn checkpoint(&self) -> Result<(), StoreError>;
    fn legal_hold(&self, user_id: &str) -> Result<Option<LegalHold>, StoreError>;
    /// Place a hold with its record; false (nothing written) if one is in place.
    fn place_hold(&self, hold: &LegalHold, audit: &AuditEvent) -> Result<bool, StoreError>;
    /// Release a hold with its record; false (nothing written) if there was none.
    fn release_hold(&self, user_id: &str, audit: &AuditEvent) -> Result<bool, StoreError>;
}
