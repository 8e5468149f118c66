//! The authorization endpoint (RFC 6749 §4.1, OIDC Core §3.1.2): validate the
//! request, decide what the user must still do, and issue the code.
//!
//! Until client_id and redirect_uri are known good, errors are shown to the user
//! and never redirected (RFC 6749 §4.1.2.1); afterwards they go back to the
//! client with `state` and `iss` (RFC 9207).

mod issue;
mod next;
mod validate;

use serde::{Deserialize, Serialize};

use super::Provider;
use super::claims::ClaimsRequest;
use super::error::OAuthError;
use super::params::Params;
use crate::crypto::secrets;
use crate::domain::records::Client;
use crate::domain::{Acr, ClientId};

pub use issue::issue_code;
pub use next::{Next, needed_acr, next_step, tenant_choices};
pub use validate::validate;

pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// A request that passed every check; stored while the user signs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: ClientId,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// None only for a client registered with `pkce = optional` that sent
    /// none (and so sent scope `openid` and a `nonce`, RFC 9700 §2.1.1).
    pub code_challenge: Option<String>,
    pub response_mode: ResponseMode,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub id_token_hint: Option<String>,
    /// Requested ACR values (`acr_values`), in the client's order of preference.
    pub acr_values: Vec<String>,
    /// The weakest acr the client accepts, from `acr_values` or an essential
    /// `acr` in the `claims` parameter (docs/sessions-stepup in docs/mfa.md).
    #[serde(default)]
    pub required_acr: Option<Acr>,
    /// Ward's `tenant` parameter: the organisation whose roles and permissions
    /// the tokens should carry (docs/authorization.md).
    #[serde(default)]
    pub tenant: Option<String>,
    /// The claim names the `claims` parameter asks for (OIDC Core §5.5), for
    /// the risk engine's sensitive claims (docs/risk.md).
    #[serde(default)]
    pub requested_claims: Vec<String>,
    /// The `claims` parameter (OIDC Core §5.5), reduced to the claims Ward
    /// supports and the client may receive; carried through the code and the
    /// grant to the ID token and userinfo.
    #[serde(default)]
    pub claims: Option<ClaimsRequest>,
    /// On a shared workstation: the `sid` of the session whose user confirmed
    /// "continue as …" during this interaction (docs/sessions.md).
    #[serde(default)]
    pub confirmed_sid: Option<String>,
    /// A SMART request's FHIR server (`aud`) and EHR launch (docs/smart.md).
    #[serde(default)]
    pub smart: Option<crate::oidc::smart_launch::SmartRequest>,
}

/// Where an authorization response (success or error) goes.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseTarget {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub response_mode: ResponseMode,
}

/// The parameters to send back, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationResponse {
    pub target: ResponseTarget,
    pub params: Vec<(String, String)>,
}

impl AuthorizationResponse {
    /// For `response_mode=query`: the redirect URI with the parameters appended.
    pub fn redirect_url(&self) -> String {
        let mut url = self.target.redirect_uri.clone();
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.params)
            .finish();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query);
        url
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizeError {
    /// Shown to the user; never redirected (client or redirect URI not trusted).
    Page(OAuthError),
    /// Sent to the client's redirect URI.
    Redirect(AuthorizationResponse),
}

impl ResponseTarget {
    pub fn error(&self, issuer: &str, error: &OAuthError) -> AuthorizationResponse {
        let mut params = vec![
            ("error".to_string(), error.code.to_string()),
            ("error_description".to_string(), error.description.clone()),
        ];
        if let Some(s) = &self.state {
            params.push(("state".into(), s.clone()));
        }
        params.push(("iss".into(), issuer.to_string()));
        AuthorizationResponse {
            target: self.clone(),
            params,
        }
    }
}

impl AuthorizationRequest {
    /// The scopes the user consents to: those requested, and those whose
    /// claims the `claims` parameter asks for (OIDC Core §5.5).
    pub fn consent_scopes(&self) -> Vec<String> {
        let mut out = self.scope.clone();
        for s in self.claims.iter().flat_map(ClaimsRequest::scopes) {
            if !out.iter().any(|o| o == s) {
                out.push(s.to_string());
            }
        }
        out
    }

    pub fn target(&self) -> ResponseTarget {
        ResponseTarget {
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            response_mode: self.response_mode,
        }
    }

    pub fn has_prompt(&self, value: &str) -> bool {
        self.prompt.iter().any(|p| p == value)
    }
}

/// Entry point of `/authorize`: resolve a pushed request or validate the parameters.
pub fn parse(p: &Provider, params: &Params) -> Result<AuthorizationRequest, AuthorizeError> {
    let page = AuthorizeError::Page;
    // A repeated client_id or redirect_uri leaves nothing to trust: show it.
    let client_id = params
        .get("client_id")
        .map_err(page)?
        .ok_or_else(|| page(OAuthError::invalid_request("client_id is missing")))?;
    params.get("redirect_uri").map_err(page)?;
    let unknown = || page(OAuthError::invalid_request("unknown client_id"));
    // An id Ward could never have registered is as unknown as any other.
    let client_id = ClientId::exact(client_id).ok_or_else(unknown)?;
    let client = p
        .store
        .client(&client_id)
        .map_err(|e| page(e.into()))?
        .ok_or_else(unknown)?;

    if let Some(request_uri) = params.get("request_uri").map_err(page)? {
        return take_pushed(p, &client, request_uri);
    }
    validate(p, params, &client, false)
}

/// RFC 9126 §4: a pushed request is bound to its client, single use and short-lived.
fn take_pushed(
    p: &Provider,
    client: &Client,
    request_uri: &str,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let invalid = || {
        AuthorizeError::Page(OAuthError::invalid_request_uri(
            "the request_uri is unknown, expired, already used or for another client",
        ))
    };
    let id = request_uri
        .strip_prefix(REQUEST_URI_PREFIX)
        .ok_or_else(invalid)?;
    let hash = secrets::hash(id);
    let row = p
        .store
        .auth_request(&hash, p.now)
        .map_err(|e| AuthorizeError::Page(e.into()))?
        .ok_or_else(invalid)?;
    if !row.pushed || row.client_id != client.id {
        return Err(invalid());
    }
    if !p
        .store
        .use_auth_request(&hash, p.now)
        .map_err(|e| AuthorizeError::Page(e.into()))?
    {
        return Err(invalid());
    }
    serde_json::from_str(&row.params).map_err(|_| invalid())
}

#[cfg(test)]
mod tests;
