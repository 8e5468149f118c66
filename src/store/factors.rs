//! Second factors: TOTP and recovery codes, and what an account has enrolled.

use super::StoreError;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::UserId;

/// The keyring context (AAD) that binds a sealed TOTP secret to its user.
pub fn totp_secret_context(user_id: &str) -> String {
    format!("totp_credentials.secret:{user_id}")
}

/// What protects an account (its address aside: that is on the user).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Enrolled {
    pub password: bool,
    /// A confirmed TOTP.
    pub totp: bool,
    pub passkeys: i64,
    /// Unused recovery codes.
    pub recovery_codes: i64,
}

/// A user's TOTP credential; the secret is sealed under the master key.
#[derive(Debug, Clone, PartialEq)]
pub struct TotpRow {
    pub user_id: String,
    pub secret_sealed: String,
    /// None while the enrolment waits for its first code.
    pub confirmed_at: Option<Millis>,
    /// The last accepted time step (RFC 6238): each step is accepted once.
    pub last_step: i64,
    pub created_at: Millis,
}

/// Checks a code against a TOTP credential: the step to accept, or None.
pub type StepOf<'a> = &'a dyn Fn(&TotpRow) -> Result<Option<i64>, StoreError>;

pub trait FactorStore {
    fn enrolled(&self, user_id: &UserId) -> Result<Enrolled, StoreError>;
    fn totp(&self, user_id: &str) -> Result<Option<TotpRow>, StoreError>;
    /// Accept time step `step` only if it is later than the last accepted one
    /// (compare-and-set: one code cannot pass twice); confirms a pending
    /// enrolment. False on a replay.
    fn accept_totp_step(&self, user_id: &str, step: i64, now: Millis) -> Result<bool, StoreError>;
    /// Start an enrolment unless a confirmed TOTP exists, in one transaction:
    /// the pending secret (the one already pending, or `fresh_sealed`, stored
    /// now); None when a confirmed TOTP exists.
    fn begin_totp(
        &self,
        user_id: &str,
        fresh_sealed: &str,
        now: Millis,
    ) -> Result<Option<String>, StoreError>;
    /// Confirm the pending enrolment if `step_of` accepts the code against it:
    /// the step, the audit record and, when the account has never had
    /// recovery codes, `first_codes`, in one transaction. None when nothing is
    /// pending or the code is refused; Some(true) when `first_codes` were stored.
    fn confirm_totp(
        &self,
        user_id: &str,
        now: Millis,
        step_of: StepOf<'_>,
        audit: &AuditEvent,
        first_codes: &[String],
    ) -> Result<Option<bool>, StoreError>;
    /// Remove the TOTP with its audit record; false (and no record) if there was none.
    fn remove_totp(&self, user_id: &str, audit: &AuditEvent) -> Result<bool, StoreError>;
    /// Use a recovery code (by hash) once, with its audit record, which gets
    /// the `remaining` count; None if the code is unknown or used.
    fn use_recovery_code(
        &self,
        user_id: &str,
        hash: &str,
        now: Millis,
        audit: AuditEvent,
    ) -> Result<Option<i64>, StoreError>;
    /// Replace the user's recovery codes with `hashes`, with the audit record.
    fn replace_recovery_codes(
        &self,
        user_id: &str,
        hashes: &[String],
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
}
