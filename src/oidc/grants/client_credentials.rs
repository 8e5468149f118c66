//! RFC 6749 §4.4: a confidential client acting for itself. No user, no refresh
//! token, no ID token; no database write but the (group-committed) audit record.

use crate::audit::{AuditEvent, Outcome};
use crate::domain::records::Client;
use crate::domain::{ClientType, GrantType};
use crate::oidc::error::OAuthError;
use crate::oidc::params::Params;
use crate::oidc::{Provider, scope_list, smart_scopes, tokens};

use super::TokenResponse;

/// Scopes about a user make no sense without one.
const USER_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
];

/// OpenID scopes, and SMART clinical scopes until Backend Services' `system/`
/// scopes land (docs/smart.md): `user/` scopes need a user.
fn is_about_a_user(scope: &str) -> bool {
    USER_SCOPES.contains(&scope) || smart_scopes::is_clinical(scope)
}

pub fn exchange(
    p: &Provider,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    if client.client_type != ClientType::Confidential {
        return Err(OAuthError::unauthorized_client(
            "client_credentials needs a confidential client",
        ));
    }
    let scope = match params.get("scope")? {
        Some(s) => {
            let requested = scope_list(s);
            if let Some(bad) = requested
                .iter()
                .find(|r| !client.scopes.contains(r) || is_about_a_user(r))
            {
                return Err(OAuthError::invalid_scope(format!(
                    "scope `{bad}` is not available to this client"
                )));
            }
            requested
        }
        None => client
            .scopes
            .iter()
            .filter(|s| !is_about_a_user(s))
            .cloned()
            .collect(),
    };
    let access = tokens::access_token(p, client, &client.id, &scope, None, None, None)?;
    p.store.audit(
        AuditEvent::new(
            p.now,
            format!("client:{}", client.id),
            "token.issued",
            Outcome::Success,
        )
        .client(&client.id)
        .detail("grant_type", GrantType::ClientCredentials.as_str())
        .detail("jti", access.jti.as_str()),
    )?;
    Ok(TokenResponse {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: access.expires_in,
        refresh_token: None,
        id_token: None,
        scope: scope.join(" "),
        context: Default::default(),
    })
}
