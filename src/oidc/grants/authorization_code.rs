//! RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6): redeem a code exactly once.

use crate::audit::{AuditEvent, Outcome};
use crate::crypto::secrets;
use crate::domain::GrantType;
use crate::domain::records::Client;
use crate::oidc::error::OAuthError;
use crate::oidc::params::Params;
use crate::oidc::{Provider, pkce};
use crate::store::{CodeRow, GrantRow, Redeemed};

use super::{TokenResponse, may_use, user_tokens};

const INVALID: &str = "the authorization code is invalid, expired or already used";

pub fn exchange(
    p: &Provider,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let (code_hash, row) = redeemable_code(p, client, params)?;
    let grant = GrantRow {
        id: uuid::Uuid::new_v4().simple().to_string(),
        client_id: client.id.clone(),
        scope: row.scope.clone(),
        nonce: row.nonce.clone(),
        facts: row.facts.clone(),
        created_at: p.now,
        expires_at: p.now + i64::from(p.tokens.refresh_token_seconds) * 1000,
        revoked_at: None,
        user_active: true,
        claims: row.claims.clone(),
        smart: row.smart.clone(),
    };
    // OIDC Core §11: an OpenID request gets a refresh token only with
    // offline_access; SMART's online_access asks for one too, which dies with
    // the session (a session's end spares only offline_access grants).
    let wants_refresh = !grant.scope.iter().any(|s| s == "openid")
        || grant
            .scope
            .iter()
            .any(|s| s == "offline_access" || s == "online_access");
    let refresh =
        (wants_refresh && may_use(client, GrantType::RefreshToken)).then(|| secrets::generate(32));
    let issued = user_tokens(
        p,
        client,
        &grant,
        &grant.scope,
        grant.nonce.as_deref(),
        GrantType::AuthorizationCode,
    )?;
    let audit = issued.audit.detail("refresh_token", refresh.is_some());
    match p.store.redeem_code(
        &code_hash,
        p.now,
        &grant,
        refresh.as_deref().map(secrets::hash).as_deref(),
        &audit,
    )? {
        Redeemed::Ok => Ok(TokenResponse {
            access_token: issued.access.token,
            token_type: "Bearer",
            expires_in: issued.access.expires_in,
            refresh_token: refresh,
            id_token: issued.id_token,
            scope: issued.scope.join(" "),
            context: issued.context,
        }),
        Redeemed::AlreadyUsed(first) => {
            // Lost a race with a concurrent redemption: that one wins, and is revoked.
            revoke_after_reuse(p, client, first.as_deref(), grant.facts.user_id.as_str())?;
            Err(OAuthError::invalid_grant(INVALID))
        }
    }
}

/// The code of the request, if this client may redeem it now: bound to the
/// client, its PKCE verifier (RFC 7636 §4.6), unused, unexpired, for the same
/// redirect_uri (RFC 6749 §4.1.3) and a user still active. Returns its hash too.
fn redeemable_code(
    p: &Provider,
    client: &Client,
    params: &Params,
) -> Result<(String, CodeRow), OAuthError> {
    let code = params.require("code")?;
    let redirect_uri = params.require("redirect_uri")?;
    let verifier = params.get("code_verifier")?;
    let code_hash = secrets::hash(code);
    let row = p
        .store
        .code(&code_hash)?
        .ok_or_else(|| OAuthError::invalid_grant(INVALID))?;
    if row.client_id != client.id {
        return Err(OAuthError::invalid_grant(INVALID));
    }
    // PKCE first: a stolen, already-used code without its verifier must not be
    // able to revoke the legitimate client's tokens. A code issued without a
    // challenge takes no verifier (RFC 9700 §2.1.1); only confidential clients
    // get such codes, so client authentication guards them.
    pkce::check_redemption(row.code_challenge.as_deref(), verifier)?;
    if row.consumed_at.is_some() {
        // RFC 6749 §4.1.2: a second use revokes what the first one issued.
        revoke_after_reuse(
            p,
            client,
            row.grant_id.as_deref(),
            row.facts.user_id.as_str(),
        )?;
        return Err(OAuthError::invalid_grant(INVALID));
    }
    if row.expires_at <= p.now {
        return Err(OAuthError::invalid_grant(INVALID));
    }
    if row.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    if !row.user_active {
        return Err(OAuthError::invalid_grant(INVALID));
    }
    Ok((code_hash, row))
}

fn revoke_after_reuse(
    p: &Provider,
    client: &Client,
    grant_id: Option<&str>,
    user_id: &str,
) -> Result<(), OAuthError> {
    let audit = AuditEvent::new(
        p.now,
        format!("client:{}", client.id),
        "token.code_reuse",
        Outcome::Failure,
    )
    .subject(user_id)
    .client(&client.id)
    .reason("authorization_code_reused");
    match grant_id {
        Some(g) => p
            .store
            .revoke_grant(g, p.now, &audit.detail("revoked_grant", g))?,
        None => p.store.audit(audit)?,
    }
    Ok(())
}
