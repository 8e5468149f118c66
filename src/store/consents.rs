//! Consent records, for the person's own account pages and administrators:
//! listing them and withdrawing one (docs/privacy.md). Not part of `Store`.

use super::StoreError;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::consent::{ConsentRecord, ConsentWithdrawn};

/// What a withdrawal did, all in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    /// The consent's latest version, now withdrawn.
    pub record: ConsentRecord,
    /// Grants (token families) revoked: their refresh tokens no longer work.
    pub grants_revoked: usize,
    /// Authorization codes issued but not yet redeemed, now unusable.
    pub codes_revoked: usize,
    /// Back-channel logout notices queued for the client.
    pub logouts_queued: usize,
}

/// How a withdrawal went; only `Withdrawn` wrote anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WithdrawOutcome {
    Withdrawn(Withdrawal),
    /// The user never consented to this client.
    NoConsent,
    /// Its latest version was withdrawn before (shown as it is).
    AlreadyWithdrawn(ConsentRecord),
}

pub trait ConsentAdminStore {
    /// The user's consents (the latest version per client, or every version
    /// with `history`), read with the audit record of the read.
    fn user_consents(
        &self,
        user_id: &str,
        history: bool,
        audit: &AuditEvent,
    ) -> Result<Vec<ConsentRecord>, StoreError>;
    /// Withdraw the user's live consent for the client: mark it withdrawn,
    /// revoke the client's grants and codes for the user, queue back-channel
    /// logout notices, and write the audit record `audit` makes of it, in one
    /// transaction.
    fn withdraw_consent(
        &self,
        user_id: &str,
        client_id: &str,
        how: ConsentWithdrawn,
        now: Millis,
        audit: impl FnOnce(&Withdrawal) -> AuditEvent,
    ) -> Result<WithdrawOutcome, StoreError>;
}
