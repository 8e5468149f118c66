//! Consents, authorization codes, grants (token families), refresh tokens,
//! access-token revocation and client-assertion replay.

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::domain::claims::ClaimsRequest;
use crate::domain::consent::ConsentRecord;
use crate::domain::{Acr, Amr, ClientId, SessionId, UserId};
use crate::smart::SmartGrant;

/// What a code, a grant and its tokens carry about the authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthFacts {
    pub user_id: UserId,
    pub auth_time: Millis,
    pub acr: Acr,
    pub amr: Vec<Amr>,
    /// The session signed in with; the `sid` claim is derived from it.
    pub session_hash: Option<SessionId>,
    /// The tenant (Casbin domain) whose roles and permissions the tokens carry.
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CodeRow {
    pub code_hash: String,
    pub client_id: ClientId,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub nonce: Option<String>,
    /// None: the request had no code_challenge (an optional-PKCE client), so
    /// the redemption must come without a code_verifier.
    pub code_challenge: Option<String>,
    pub facts: AuthFacts,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub consumed_at: Option<Millis>,
    pub grant_id: Option<String>,
    /// Whether the user is still active (read with the code, saving a query).
    pub user_active: bool,
    /// The authorization request's `claims` parameter (OIDC Core §5.5).
    pub claims: Option<ClaimsRequest>,
    /// A SMART request's `aud` and launch context (docs/smart.md).
    pub smart: Option<SmartGrant>,
}

/// A token family: everything issued from one code exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantRow {
    pub id: String,
    pub client_id: ClientId,
    pub scope: Vec<String>,
    pub nonce: Option<String>,
    pub facts: AuthFacts,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub revoked_at: Option<Millis>,
    /// Whether the user is still active (read with the grant, saving a query).
    pub user_active: bool,
    /// The authorization request's `claims` parameter (OIDC Core §5.5),
    /// honoured by every ID token of the grant and by userinfo.
    pub claims: Option<ClaimsRequest>,
    /// A SMART grant's `aud` and launch context, for every token of the
    /// grant (the context survives refresh: SMART 2.2.0).
    pub smart: Option<SmartGrant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefreshRow {
    pub token_hash: String,
    pub grant_id: String,
    pub created_at: Millis,
    pub rotated_at: Option<Millis>,
}

/// How a code redemption went.
#[derive(Debug, Clone, PartialEq)]
pub enum Redeemed {
    Ok,
    /// Somebody redeemed it first; the grant their redemption created (if any).
    AlreadyUsed(Option<String>),
}

pub trait GrantStore {
    /// The user's live consent for this client (its latest version, unless
    /// withdrawn).
    fn consent(
        &self,
        user_id: &UserId,
        client_id: &ClientId,
    ) -> Result<Option<ConsentRecord>, StoreError>;
    /// Store `record` as the next version of the user's consent for the
    /// client (its `version` is assigned here), with the audit record; the
    /// record as stored.
    fn save_consent(
        &self,
        record: &ConsentRecord,
        audit: &AuditEvent,
    ) -> Result<ConsentRecord, StoreError>;

    /// Store a new code and mark its interaction used, with the audit record;
    /// false (and nothing stored) if the interaction was already completed.
    fn create_code(
        &self,
        code: &CodeRow,
        interaction: Option<&str>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
    fn code(&self, code_hash: &str) -> Result<Option<CodeRow>, StoreError>;
    /// Consume the code (once) and create its grant and first refresh
    /// token, with the audit record.
    fn redeem_code(
        &self,
        code_hash: &str,
        now: Millis,
        grant: &GrantRow,
        refresh_hash: Option<&str>,
        audit: &AuditEvent,
    ) -> Result<Redeemed, StoreError>;

    fn grant(&self, id: &str) -> Result<Option<GrantRow>, StoreError>;
    fn revoke_grant(&self, id: &str, now: Millis, audit: &AuditEvent) -> Result<(), StoreError>;
    fn refresh_token(&self, token_hash: &str)
    -> Result<Option<(RefreshRow, GrantRow)>, StoreError>;
    /// Retire `old` and store `new` in the same grant, with the audit record;
    /// false if `old` was already rotated.
    fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: &str,
        grant_id: &str,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    fn revoke_jti(
        &self,
        jti: &str,
        expires_at: Millis,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    fn jti_revoked(&self, jti: &str) -> Result<bool, StoreError>;
    /// Remember a client assertion's jti; false if it was seen before (replay).
    fn remember_assertion(
        &self,
        client_id: &ClientId,
        jti: &str,
        expires_at: Millis,
        now: Millis,
    ) -> Result<bool, StoreError>;
}
