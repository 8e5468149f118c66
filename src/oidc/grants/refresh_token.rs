//! RFC 6749 §6 with rotation (RFC 9700 §4.14.2): every use returns a new refresh
//! token; presenting a rotated-out one revokes the whole family.

use crate::audit::{AuditEvent, Outcome};
use crate::crypto::secrets;
use crate::domain::GrantType;
use crate::domain::records::Client;
use crate::oidc::error::OAuthError;
use crate::oidc::params::Params;
use crate::oidc::{Provider, scope_list};

use super::{TokenResponse, user_tokens};

const INVALID: &str = "the refresh token is invalid, expired or revoked";

pub fn exchange(
    p: &Provider,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let presented = params.require("refresh_token")?;
    let old_hash = secrets::hash(presented);
    let (row, grant) = p
        .store
        .refresh_token(&old_hash)?
        .ok_or_else(|| OAuthError::invalid_grant(INVALID))?;
    if grant.client_id != client.id || grant.revoked_at.is_some() || grant.expires_at <= p.now {
        return Err(OAuthError::invalid_grant(INVALID));
    }
    if row.rotated_at.is_some() {
        revoke_family(p, client, &grant.id, grant.facts.user_id.as_str())?;
        return Err(OAuthError::invalid_grant(INVALID));
    }
    // Never broadened (RFC 6749 §6): a subset of what was granted.
    let scope = match params.get("scope")? {
        Some(s) => {
            let requested = scope_list(s);
            if let Some(bad) = requested.iter().find(|r| !grant.scope.contains(r)) {
                return Err(OAuthError::invalid_scope(format!(
                    "scope `{bad}` was not granted"
                )));
            }
            requested
        }
        None => grant.scope.clone(),
    };
    if !grant.user_active {
        return Err(OAuthError::invalid_grant(INVALID));
    }

    let issued = user_tokens(p, client, &grant, &scope, None, GrantType::RefreshToken)?;
    let next = secrets::generate(32);
    if !p.store.rotate_refresh(
        &old_hash,
        &secrets::hash(&next),
        &grant.id,
        p.now,
        &issued.audit,
    )? {
        // A concurrent request rotated it first: that is a reuse too.
        revoke_family(p, client, &grant.id, grant.facts.user_id.as_str())?;
        return Err(OAuthError::invalid_grant(INVALID));
    }
    Ok(TokenResponse {
        access_token: issued.access.token,
        token_type: "Bearer",
        expires_in: issued.access.expires_in,
        refresh_token: Some(next),
        id_token: issued.id_token,
        scope: issued.scope.join(" "),
        context: issued.context,
    })
}

fn revoke_family(
    p: &Provider,
    client: &Client,
    grant_id: &str,
    user_id: &str,
) -> Result<(), OAuthError> {
    let audit = AuditEvent::new(
        p.now,
        format!("client:{}", client.id),
        "token.refresh_reuse",
        Outcome::Failure,
    )
    .subject(user_id)
    .client(&client.id)
    .reason("refresh_token_reused")
    .detail("revoked_grant", grant_id);
    p.store.revoke_grant(grant_id, p.now, &audit)?;
    Ok(())
}
