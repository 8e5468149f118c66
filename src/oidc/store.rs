//! What the protocol core needs from storage. `storage::Database` implements it;
//! every method is blocking and atomic on its own.

use serde::{Deserialize, Serialize};

use super::claims::ClaimsRequest;
use crate::audit::AuditEvent;
use crate::clock::Millis;
use crate::storage::clients::Client;
use crate::storage::users::User;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable")]
    Unavailable,
    #[error("storage error: {0}")]
    Internal(String),
}

/// A browser session (server-side; the cookie holds only a random id).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub created_at: Millis,
    pub last_seen_at: Millis,
    pub expires_at: Millis,
    pub auth_time: Millis,
    pub acr: String,
    pub amr: Vec<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub ended_at: Option<Millis>,
    /// The hash of the browser's device cookie (docs/risk.md).
    pub device_hash: Option<String>,
    /// When each factor (by amr value) was last proven in this session.
    pub factor_times: std::collections::BTreeMap<String, Millis>,
    /// Started on a shared workstation: the shorter idle timeout applies.
    pub shared_workstation: bool,
}

/// What to look up of a user's history for the risk engine.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    pub user_id: String,
    pub device_hash: Option<String>,
    /// The request's network (`risk::network::prefix`).
    pub network: Option<String>,
    /// Throttle keys whose recent failures count (account, address).
    pub account_key: Option<String>,
    pub address_key: Option<String>,
    pub failures_since: Millis,
}

/// A user's history, as the risk engine needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskHistory {
    pub device: crate::risk::Familiarity,
    pub network: crate::risk::Familiarity,
    pub account_failures: u32,
    pub address_failures: u32,
    pub last_location: Option<(crate::risk::GeoPoint, Millis)>,
}

/// A validated authorization request waiting for its user (or pushed by a client).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthRequestRow {
    pub id_hash: String,
    pub client_id: String,
    /// The validated request, as JSON (see `authorize::AuthorizationRequest`).
    pub params: String,
    pub pushed: bool,
    pub browser_hash: Option<String>,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// What a code, a grant and its tokens carry about the authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthFacts {
    pub user_id: String,
    pub auth_time: Millis,
    pub acr: String,
    pub amr: Vec<String>,
    /// Hash of the session id; the `sid` claim is derived from it.
    pub session_hash: Option<String>,
    /// The tenant (Casbin domain) whose roles and permissions the tokens carry.
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CodeRow {
    pub code_hash: String,
    pub client_id: String,
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
}

/// A token family: everything issued from one code exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantRow {
    pub id: String,
    pub client_id: String,
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

pub trait OidcStore: Send + Sync {
    fn client(&self, id: &str) -> Result<Option<Client>, StoreError>;
    fn user(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// The user and their password hash, by (normalised) username.
    fn user_with_password(
        &self,
        username: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError>;

    fn save_auth_request(&self, row: &AuthRequestRow) -> Result<(), StoreError>;
    /// A live (unused, unexpired) request.
    fn auth_request(
        &self,
        id_hash: &str,
        now: Millis,
    ) -> Result<Option<AuthRequestRow>, StoreError>;
    /// Replace a live request's parameters (a choice the user made, like the tenant).
    fn update_auth_request(&self, id_hash: &str, params: &str) -> Result<(), StoreError>;
    /// Mark a request used; false if it was already used (single use).
    fn use_auth_request(&self, id_hash: &str, now: Millis) -> Result<bool, StoreError>;

    /// Store a new session; `replaces` (the hash of the browser's previous session) is ended.
    fn create_session(
        &self,
        row: &SessionRow,
        replaces: Option<&str>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    fn session(&self, id_hash: &str) -> Result<Option<SessionRow>, StoreError>;
    fn touch_session(&self, id_hash: &str, now: Millis) -> Result<(), StoreError>;
    /// Mark a session as running on a shared workstation (shorter idle timeout).
    fn mark_session_shared(&self, id_hash: &str) -> Result<(), StoreError>;
    fn risk_history(&self, q: &HistoryQuery) -> Result<RiskHistory, StoreError>;
    /// End a session (its grants and back-channel notifications follow) with
    /// its audit record, in one transaction; false if it had already ended.
    fn end_session(
        &self,
        id_hash: &str,
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// The scopes the user consented to for this client, and when.
    fn consent(
        &self,
        user_id: &str,
        client_id: &str,
    ) -> Result<Option<(Vec<String>, Millis)>, StoreError>;
    fn save_consent(
        &self,
        user_id: &str,
        client_id: &str,
        scopes: &[String],
        now: Millis,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// Store a new code and mark its interaction used, with the audit record;
    /// false (and nothing stored) if the interaction was already completed.
    fn create_code(
        &self,
        code: &CodeRow,
        interaction: Option<&str>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
    fn code(&self, code_hash: &str) -> Result<Option<CodeRow>, StoreError>;
    /// Consume the code (once) and create its grant and first refresh token.
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
    /// Retire `old` and store `new` in the same grant; false if `old` was already rotated.
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
        client_id: &str,
        jti: &str,
        expires_at: Millis,
        now: Millis,
    ) -> Result<bool, StoreError>;

    /// Record an event that accompanies no other write (e.g. a client_credentials
    /// issuance); may be group-committed with others, durable when this returns.
    fn audit(&self, event: AuditEvent) -> Result<(), StoreError>;

    /// The user's break-glass elevation in `tenant` in force at `now`: (id, expires_at).
    fn active_break_glass(
        &self,
        user_id: &str,
        tenant: &str,
        now: Millis,
    ) -> Result<Option<(String, Millis)>, StoreError>;
}
