//! RFC 7009 token revocation. Unknown tokens, and tokens of other clients, get
//! the same 200 as a successful revocation (§2.2), so nothing is learned.

use serde_json::Value;

use super::error::OAuthError;
use super::params::Params;
use super::{Provider, jwt, tokens};
use crate::audit::{AuditEvent, Outcome};
use crate::crypto::secrets;
use crate::domain::records::Client;

pub fn revoke(p: &Provider, caller: &Client, params: &Params) -> Result<(), OAuthError> {
    let token = params.require("token")?;
    let event = |kind: &str| {
        AuditEvent::new(
            p.now,
            format!("client:{}", caller.id),
            kind,
            Outcome::Success,
        )
        .client(&caller.id)
    };
    if token.contains('.') {
        // An access token: revoke its jti until it would have expired anyway.
        let Some(decoded) = jwt::decode(token) else {
            return Ok(());
        };
        let ours = decoded
            .kid()
            .and_then(|k| p.keys.verifier(k))
            .is_some_and(|v| decoded.verify(v));
        let claims = &decoded.claims;
        if !ours || tokens::client_of(claims).as_ref() != Some(&caller.id) {
            return Ok(());
        }
        let (Some(jti), Some(exp)) = (
            claims.get("jti").and_then(Value::as_str),
            claims.get("exp").and_then(Value::as_i64),
        ) else {
            return Ok(());
        };
        if exp * 1000 > p.now {
            // The audit record names the local user (the grant's), not the
            // `sub` the client sees (perhaps pairwise, OIDC Core §8); a
            // client_credentials token's `sub` is the client.
            let grant = match super::tokens::grant_of_jti(jti) {
                Some(g) => p.store.grant(g)?,
                None => None,
            };
            let sub = match &grant {
                Some(g) => g.facts.user_id.as_str(),
                None => claims
                    .get("sub")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            };
            p.store.revoke_jti(
                jti,
                exp * 1000,
                &event("token.revoked").subject(sub).detail("jti", jti),
            )?;
        }
        return Ok(());
    }
    if let Some((_, grant)) = p.store.refresh_token(&secrets::hash(token))?
        && grant.client_id == caller.id
        && grant.revoked_at.is_none()
    {
        // §2.1: revoking a refresh token revokes its whole grant (and its access tokens).
        p.store.revoke_grant(
            &grant.id,
            p.now,
            &event("grant.revoked")
                .subject(grant.facts.user_id.as_str())
                .detail("grant", grant.id.as_str()),
        )?;
    }
    Ok(())
}
