//! The client and user records the core works with, as storage loads them.
//! Plain values: storage maps its rows to these, and the protocol core, the
//! sign-in and the administrative operations read them.

use serde::Serialize;

use crate::clock::Millis;
use crate::domain::profile::Address;
use crate::domain::{
    Acr, ClientId, ClientType, GrantType, PkcePolicy, Subject, UserId, UserStatus,
};

/// A client as stored. The secret is only ever present as its SHA-256 hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Client {
    pub id: ClientId,
    pub name: String,
    pub client_type: ClientType,
    #[serde(skip)]
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Ward's own or the hospital's app: consent is implied.
    pub first_party: bool,
    /// Authorization requests must be pushed first (RFC 9126).
    pub require_par: bool,
    /// Public keys for private_key_jwt client authentication (RFC 7523), as a JWKS.
    pub jwks: Option<serde_json::Value>,
    /// Where the client publishes those keys instead (fetched and cached by
    /// `jwks::ClientKeys`); at most one of `jwks` and `jwks_uri` is set.
    pub jwks_uri: Option<String>,
    /// The tenant in which the client's own roles (`g, client:<id>, role,
    /// tenant`) narrow its SMART `system/` scopes (docs/smart.md).
    pub tenant: Option<String>,
    /// ID token signing algorithm: RS256 (default) or ES256.
    pub id_token_alg: String,
    /// Access token lifetime for this client, overriding the configured default.
    pub access_token_seconds: Option<i64>,
    /// The permission resources (e.g. `ehr`) whose permissions this client's
    /// tokens carry; none by default (least privilege).
    pub authz_resources: Vec<String>,
    /// The weakest acr this client accepts (step-up below it); None: any.
    pub min_acr: Option<Acr>,
    /// Where the browser may go after an RP-initiated logout (exact match).
    pub post_logout_redirect_uris: Vec<String>,
    /// Back-Channel Logout 1.0: where Ward POSTs logout tokens.
    pub backchannel_logout_uri: Option<String>,
    /// Used on shared workstations: its sessions get the short idle timeout
    /// and a "switch user" button (docs/sessions.md).
    pub shared_workstation: bool,
    /// Whether it must use PKCE (default) or may use `nonce` instead
    /// (confidential clients only; docs/oidc.md).
    pub pkce: PkcePolicy,
    /// Which `sub` it sees for a user: public, or pairwise in its sector
    /// (OIDC Core §8; `oidc::subject`). Serialised as `subject_type`,
    /// `sector` and `sector_identifier_uri` beside the other fields.
    #[serde(flatten)]
    pub subject: Subject,
    /// What the client says it uses personal data for: shown on the consent
    /// page; a change asks every user again (docs/privacy.md).
    pub purpose: Option<String>,
    /// The user claims it may ever receive (data minimisation); None: every
    /// claim of its registered scopes.
    pub allowed_claims: Option<Vec<String>>,
}

/// The standard profile claims a user has (OIDC Core §5.1), as stored; each
/// was checked by `domain::profile` when it was set.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Profile {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub middle_name: Option<String>,
    pub birthdate: Option<String>,
    pub locale: Option<String>,
    pub zoneinfo: Option<String>,
    pub phone_number: Option<String>,
    pub phone_number_verified: bool,
    pub address: Option<Address>,
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub status: UserStatus,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// `staff` (created by an administrator) or `patient` (signed up themselves).
    pub account_type: String,
    pub profile: Profile,
}
