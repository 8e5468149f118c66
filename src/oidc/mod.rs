//! The OpenID Connect / OAuth 2.0 protocol core: plain functions over
//! [`crate::store::Store`], free of HTTP and SQL. Handlers in `web` translate
//! requests into calls here and outcomes back into responses.

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod consent;
pub mod disclosure;
pub mod discovery;
pub mod error;
pub mod grants;
pub mod interaction;
pub mod introspect;
pub mod jwt;
pub mod keys;
pub mod logout;
pub mod par;
pub mod params;
pub mod pkce;
pub mod redirect;
pub mod revoke;
pub mod risk;
pub mod smart_launch;
pub mod smart_picker;
pub mod smart_scopes;
pub mod subject;
#[cfg(test)]
pub(crate) mod testing;
pub mod tokens;
pub mod userinfo;

use crate::clock::Millis;
use crate::config::TokenLifetimes;

pub use error::OAuthError;

/// Everything a protocol operation needs, for one request.
pub struct Provider<'a> {
    pub store: &'a dyn crate::store::Store,
    pub keys: &'a keys::KeySet,
    pub issuer: &'a str,
    pub tokens: TokenLifetimes,
    /// Require PAR from every client (RFC 9126 §5), not only those registered so.
    pub require_par: bool,
    pub now: Millis,
    /// The authorization policy as of this request (roles and permissions claims).
    pub policy: std::sync::Arc<crate::authz::engine::PolicyEngine>,
    /// The risk engine's policy and GeoIP data (docs/risk.md).
    pub risk: &'a crate::risk::RiskPolicy,
    pub geo: Option<&'a crate::risk::GeoDb>,
    /// The weakest acr per scope (`scope_min_acr`).
    pub scope_min_acr: &'a std::collections::BTreeMap<String, crate::domain::Acr>,
    /// Clients' key sets from their `jwks_uri` (fetched outside any transaction).
    pub client_keys: &'a crate::jwks::ClientKeys,
    /// The key of pairwise `sub` values (`subject`).
    pub pairwise_key: &'a crate::crypto::pairwise::PairwiseKey,
    /// The operator's consent policy version, kept with each consent record.
    pub consent_policy_version: &'a str,
}

impl Provider<'_> {
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    pub fn now_secs(&self) -> i64 {
        self.now / 1000
    }
}

/// Scopes Ward understands; a client may be allowed others (its own APIs).
pub const STANDARD_SCOPES: [&str; 7] = [
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
    "roles",
];

/// SMART App Launch 2.2.0's fixed scopes Ward implements (docs/smart.md):
/// the EHR launch's context, a standalone launch's patient (for patient
/// users), the `fhirUser` claim and refresh tokens that die with the session.
pub const SMART_SCOPES: [&str; 5] = [
    "launch",
    "launch/patient",
    "launch/encounter",
    "fhirUser",
    "online_access",
];

/// The scope of an admin API token (docs/admin-api.md): only the client named
/// by `admin_console_client_id` may register it.
pub const ADMIN_SCOPE: &str = "ward:admin";

/// The one check of a scope a client may be allowed (CLI and admin API, through
/// `manage::clients`): a standard scope Ward implements, or one of the client's
/// own API scopes; a SMART clinical scope must parse and be of a compartment
/// Ward grants.
pub fn check_client_scope(scope: &crate::domain::Scope) -> Result<(), crate::domain::InvalidValue> {
    if let Some(why) = smart_scopes::registration_refusal(scope.as_str()) {
        return Err(crate::domain::InvalidValue::new("scope", why));
    }
    Ok(())
}

/// Split a space-separated scope string into a list without duplicates.
pub fn scope_list(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    out
}
