//! Passkeys, the server-side state of WebAuthn ceremonies, and the patient
//! sign-up that creates an account with its first passkey.

use super::StoreError;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::UserId;
use crate::domain::records::User;

#[derive(Debug, Clone, PartialEq)]
pub struct PasskeyRow {
    pub credential_id: String,
    pub user_id: String,
    pub name: String,
    /// webauthn-rs `Passkey` as JSON: public key, algorithm, counter.
    pub passkey: String,
    pub aaguid: String,
    pub backup_eligible: bool,
    pub backup_state: bool,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
}

/// A WebAuthn ceremony waiting for the authenticator's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CeremonyRow {
    pub id_hash: String,
    /// `authenticate`, `register` or `signup`.
    pub kind: String,
    pub user_id: Option<String>,
    /// The webauthn-rs state, as JSON.
    pub state: String,
    /// What the ceremony carries (a passkey's name, a sign-up's details), as JSON.
    pub context: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// A patient account created with its first passkey: no password, email unverified.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPatient {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub created_at: Millis,
}

/// How a removal went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyRemoval {
    Removed,
    /// The account has no password and this is its last passkey: kept.
    LastWayIn,
    /// No such passkey on this account.
    NotFound,
}

pub trait PasskeyStore {
    /// The user's passkeys, oldest first.
    fn passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRow>, StoreError>;
    fn passkey(&self, credential_id: &str) -> Result<Option<PasskeyRow>, StoreError>;
    /// After a sign-in: the new counter and backup state, and when it was used.
    fn record_passkey_use(
        &self,
        credential_id: &str,
        passkey_json: &str,
        backup_state: bool,
        now: Millis,
    ) -> Result<(), StoreError>;
    /// Store a new passkey with its audit record and, when the account has
    /// never had recovery codes, `first_codes`, in one transaction. Some(true)
    /// when `first_codes` were stored; None (nothing stored) when the
    /// credential is registered already.
    fn add_passkey(
        &self,
        row: &PasskeyRow,
        audit: &AuditEvent,
        first_codes: &[String],
    ) -> Result<Option<bool>, StoreError>;
    /// Rename one of the user's passkeys; false if it is not theirs.
    fn rename_passkey(
        &self,
        user_id: &str,
        credential_id: &str,
        name: &str,
    ) -> Result<bool, StoreError>;
    /// Remove one of the user's passkeys with its audit record, unless it is
    /// the last way into an account without a password; one transaction.
    fn remove_passkey(
        &self,
        user_id: &UserId,
        credential_id: &str,
        audit: &AuditEvent,
    ) -> Result<PasskeyRemoval, StoreError>;
    /// Create the patient and their passkey with the audit record, in one
    /// transaction; None (nothing stored) when the username or the credential
    /// is taken.
    fn sign_up(
        &self,
        patient: &NewPatient,
        passkey: &PasskeyRow,
        audit: &AuditEvent,
    ) -> Result<Option<User>, StoreError>;
    fn save_ceremony(&self, row: &CeremonyRow) -> Result<(), StoreError>;
    /// Take a ceremony (it is gone whatever happens next, so its challenge
    /// answers once); None if unknown, taken already or expired.
    fn take_ceremony(&self, id_hash: &str, now: Millis) -> Result<Option<CeremonyRow>, StoreError>;
}
