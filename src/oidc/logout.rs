//! OpenID Connect RP-Initiated Logout 1.0: check a logout request and decide
//! whether to end the session at once or ask the user first, and where the
//! browser may go afterwards. Never a redirect to an unregistered URI.

use serde_json::Value;

use super::error::OAuthError;
use super::{Provider, jwt};
use crate::domain::ClientId;
use crate::oidc::params::Params;

/// The parameters of §2.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub ui_locales: Option<String>,
}

impl LogoutRequest {
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        if let Some(name) = params.first_repeated() {
            return Err(OAuthError::invalid_request(format!(
                "parameter `{name}` is repeated"
            )));
        }
        let get = |n: &str| -> Result<Option<String>, OAuthError> {
            Ok(params.get(n)?.filter(|v| !v.is_empty()).map(str::to_string))
        };
        Ok(Self {
            id_token_hint: get("id_token_hint")?,
            client_id: get("client_id")?,
            post_logout_redirect_uri: get("post_logout_redirect_uri")?,
            state: get("state")?,
            ui_locales: get("ui_locales")?,
        })
    }
}

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub struct LogoutDecision {
    /// End the session without asking: the hint is one of Ward's ID tokens for
    /// the signed-in user (§2: the OP "SHOULD ask the End-User" otherwise).
    pub confirmed: bool,
    /// Where to send the browser afterwards (with `state`), if anywhere.
    pub redirect: Option<String>,
    /// The client the request is from, when known.
    pub client_id: Option<ClientId>,
}

/// The hint's claims, if it is an ID token Ward signed (an expired one is fine, §2).
fn verified_hint(p: &Provider, hint: &str) -> Option<Value> {
    let decoded = jwt::decode(hint)?;
    let verifier = decoded.kid().and_then(|k| p.keys.verifier(k))?;
    (decoded.verify(verifier) && decoded.claims["iss"] == p.issuer).then_some(decoded.claims)
}

fn audience(claims: &Value) -> Option<ClientId> {
    super::subject::audience(claims).and_then(ClientId::exact)
}

/// Decide a logout for the browser whose signed-in user is `current_user`.
pub fn decide(
    p: &Provider,
    req: &LogoutRequest,
    current_user: Option<&str>,
) -> Result<LogoutDecision, OAuthError> {
    let hint = req
        .id_token_hint
        .as_deref()
        .and_then(|h| verified_hint(p, h));
    let hinted_client = hint.as_ref().and_then(audience);
    // A client_id no client could have names none (it is not recorded).
    let named = req.client_id.as_deref().and_then(ClientId::exact);
    // §2: a client_id that contradicts the hint's audience is an error.
    if req.client_id.is_some()
        && let Some(h) = &hinted_client
        && named.as_ref() != Some(h)
    {
        return Err(OAuthError::invalid_request(
            "client_id does not match the id_token_hint's audience",
        ));
    }
    let client_id = named.or(hinted_client);
    let redirect = match &req.post_logout_redirect_uri {
        None => None,
        Some(uri) => {
            // §3: only a URI registered for the client, compared exactly.
            let client = match &client_id {
                Some(id) => p.store.client(id)?,
                None => None,
            };
            let registered = client
                .as_ref()
                .is_some_and(|c| c.post_logout_redirect_uris.iter().any(|u| u == uri));
            if !registered {
                return Err(OAuthError::invalid_request(
                    "post_logout_redirect_uri is not registered for this client (or no client was named)",
                ));
            }
            let mut url = url::Url::parse(uri).map_err(|_| {
                OAuthError::invalid_request("post_logout_redirect_uri is not a URL")
            })?;
            if let Some(state) = &req.state {
                url.query_pairs_mut().append_pair("state", state);
            }
            Some(url.to_string())
        }
    };
    // The hint's `sub` is the one its client sees (pairwise or not, OIDC Core §8).
    let hint_names_current = match (&hint, current_user) {
        (Some(h), Some(user)) => super::subject::hint_names(p, h, user)?,
        _ => false,
    };
    Ok(LogoutDecision {
        // Nobody signed in: nothing to confirm.
        confirmed: hint_names_current || current_user.is_none(),
        redirect,
        client_id,
    })
}
