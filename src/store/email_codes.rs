//! Codes sent by email: one outstanding code per user and purpose.

use super::StoreError;
use super::throttle::Rule;
use crate::audit::AuditEvent;
use crate::clock::Millis;

/// Wrong guesses a code survives; then it is void.
pub const MAX_ATTEMPTS: i64 = 5;

/// A code to store (its hash) for a user and purpose.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEmailCode {
    pub user_id: String,
    pub purpose: String,
    pub code_hash: String,
    /// The address it is sent to.
    pub email: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

pub trait EmailCodeStore {
    /// Unless `key` is blocked: count this send against it with `rule`, and
    /// store `code` (replacing the outstanding one for its user and purpose)
    /// with its audit record, in one transaction. False (nothing stored) when
    /// `key` is blocked.
    fn issue_email_code(
        &self,
        key: &str,
        rule: Rule,
        code: &NewEmailCode,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
    /// Check `code` against the outstanding one: a match consumes it and
    /// returns the address it was sent to; a miss counts an attempt, and the
    /// code is void after [`MAX_ATTEMPTS`] or once expired.
    fn consume_email_code(
        &self,
        user_id: &str,
        purpose: &str,
        code: &str,
        now: Millis,
    ) -> Result<Option<String>, StoreError>;
}
