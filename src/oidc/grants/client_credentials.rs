//! RFC 6749 §4.4: a confidential client acting for itself. No user, no refresh
//! token, no ID token; no database write but the (group-committed) audit record.
//!
//! SMART Backend Services (SMART App Launch 2.2.0 §"Backend Services"): a
//! client that authenticates with private_key_jwt may ask for `system/`
//! scopes. Each is narrowed by the client's registration (wildcards allowed
//! there), then by the client's own roles in its registered tenant
//! (`g, client:<client_id>, role, tenant`, the `fhir:<Type>` permissions), as
//! the policy is at this request; the token response's `scope` says exactly
//! what was granted (RFC 6749 §5.1). `patient/` and `user/` scopes need a
//! user and are never granted here.

use crate::audit::{AuditEvent, Outcome};
use crate::domain::records::Client;
use crate::domain::{ClientType, GrantType};
use crate::oidc::error::OAuthError;
use crate::oidc::params::Params;
use crate::oidc::{Provider, scope_list, smart_scopes, tokens};
use crate::smart::{Compartment, Scope, scope};

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

/// OpenID scopes, and the SMART clinical scopes that need a user
/// (`patient/`, `user/`, and anything malformed).
fn is_about_a_user(scope: &str) -> bool {
    USER_SCOPES.contains(&scope)
        || (smart_scopes::is_clinical(scope) && !smart_scopes::is_system(scope))
}

/// Whether the client authenticates with its keys (private_key_jwt): a
/// client with keys has no secret, so it authenticated with an assertion.
fn uses_keys(client: &Client) -> bool {
    client.jwks.is_some() || client.jwks_uri.is_some()
}

/// One requested scope, checked against the registration: the scope as the
/// registration allows it (a `system/` scope may be narrowed), or why not.
fn allowed(client: &Client, requested: &str) -> Result<String, OAuthError> {
    let refuse = |why: String| Err(OAuthError::invalid_scope(why));
    match scope::parse(requested) {
        Err(e) => refuse(format!("scope `{requested}`: {e}")),
        Ok(Scope::Clinical(c)) if c.compartment != Compartment::System => refuse(format!(
            "scope `{requested}`: {}/ scopes need a user; client_credentials takes system/ scopes (SMART Backend Services)",
            c.compartment.as_str()
        )),
        Ok(Scope::Clinical(_)) if !uses_keys(client) => refuse(format!(
            "scope `{requested}`: system/ scopes need private_key_jwt client authentication (SMART Backend Services)"
        )),
        Ok(Scope::Clinical(_)) => smart_scopes::within_registration(requested, &client.scopes)
            .map_err(OAuthError::invalid_scope),
        Ok(_) if is_about_a_user(requested) || !client.scopes.iter().any(|s| s == requested) => {
            refuse(format!(
                "scope `{requested}` is not available to this client"
            ))
        }
        Ok(_) => Ok(requested.to_string()),
    }
}

/// What the client asked for (or its registered scopes that need no user),
/// and the same checked and narrowed by the registration.
fn requested(client: &Client, params: &Params) -> Result<(Vec<String>, Vec<String>), OAuthError> {
    let asked = match params.get("scope")? {
        Some(s) => scope_list(s),
        None => client
            .scopes
            .iter()
            .filter(|s| !is_about_a_user(s) && (uses_keys(client) || !smart_scopes::is_system(s)))
            .cloned()
            .collect(),
    };
    let mut out: Vec<String> = Vec::new();
    for s in &asked {
        let one = allowed(client, s)?;
        if !out.contains(&one) {
            out.push(one);
        }
    }
    Ok((asked, out))
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
    let (asked, allowed) = requested(client, params)?;
    let scope = smart_scopes::for_client(p, client, &allowed);
    let reduced = scope != asked;
    if reduced && scope.is_empty() {
        return Err(OAuthError::invalid_scope(
            "the client's roles allow none of the requested scopes",
        ));
    }
    let access = tokens::access_token(p, client, None, &scope, None, None, None)?;
    let mut record = AuditEvent::new(
        p.now,
        format!("client:{}", client.id),
        "token.issued",
        Outcome::Success,
    )
    .client(&client.id)
    .detail("grant_type", GrantType::ClientCredentials.as_str())
    .detail("jti", access.jti.as_str())
    .detail("scope", scope.join(" "));
    if reduced {
        // What the policy took away, for the record (docs/smart.md).
        record = record
            .detail("requested_scope", asked.join(" "))
            .detail("scope_reduced", true);
    }
    p.store.audit(record)?;
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
