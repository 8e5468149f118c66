//! ID tokens (OIDC Core §2) and JWT access tokens (RFC 9068), and checking the latter.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Provider;
use super::error::OAuthError;
use super::{jwt, subject};
use crate::crypto::secrets;
use crate::crypto::signing::Algorithm;
use crate::domain::records::Client;
use crate::domain::{ClientId, SessionId};
use crate::store::{AuthFacts, GrantRow};

/// Access tokens are signed with ES256: fast to sign and to verify, and small.
pub const ACCESS_TOKEN_ALG: Algorithm = Algorithm::Es256;

pub struct IssuedAccessToken {
    pub token: String,
    pub jti: String,
    pub expires_in: i64,
}

pub use crate::session::sid;

/// OIDC Core §3.1.3.6: base64url of the left half of the SHA-256 of the token
/// (SHA-256 because both RS256 and ES256 use it).
pub fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16])
}

/// The grant an access token belongs to, from its jti (`<grant id>.<random>`).
pub fn grant_of_jti(jti: &str) -> Option<&str> {
    jti.split_once('.').map(|(g, _)| g)
}

/// The client an access token was issued to: its `client_id` claim (RFC
/// 9068 §2.2), read as a `ClientId`; None if the claim is missing or could
/// name no client.
pub fn client_of(claims: &Value) -> Option<ClientId> {
    claims
        .get("client_id")
        .and_then(Value::as_str)
        .and_then(ClientId::exact)
}

fn sign(p: &Provider, alg: Algorithm, typ: &str, claims: &Value) -> Result<String, OAuthError> {
    let key = p.keys.active(alg).ok_or_else(|| {
        tracing::error!(%alg, "no active signing key loaded");
        OAuthError::server_error()
    })?;
    jwt::encode(
        &json!({ "alg": alg.as_str(), "typ": typ, "kid": key.kid }),
        claims,
        &key.signer,
    )
    .map_err(|e| {
        tracing::error!(error = %e, "signing a token failed");
        OAuthError::server_error()
    })
}

/// An RFC 9068 access token (`typ` `at+jwt`, [`ACCESS_TOKEN_ALG`]) with
/// exactly `claims`: the one Ward mints for its own FHIR searches
/// (`oidc::smart_picker`).
pub(crate) fn sign_access_token(p: &Provider, claims: &Value) -> Result<String, OAuthError> {
    sign(p, ACCESS_TOKEN_ALG, "at+jwt", claims)
}

/// The roles and permissions claims of a user's tokens for `tenant`, from the
/// policy as it is now (so a role change shows in the next token, and refresh
/// re-evaluates). Permissions are limited to the resources the client is
/// configured to see. None without a tenant. Format: docs/authorization.md.
pub fn authorization_claims(
    p: &Provider,
    client: &Client,
    user_id: &str,
    tenant: Option<&str>,
) -> Result<Option<Value>, OAuthError> {
    let Some(tenant) = tenant else {
        return Ok(None);
    };
    let mut roles = p.policy.roles(user_id, tenant);
    let mut permissions = p.policy.permissions(user_id, tenant);
    // Break-glass: while an elevation is in force the emergency role's grants
    // join the user's own (only users who may elevate cost a query).
    let (object, action) = crate::authz::emergency::ELEVATE;
    let elevation = if p.policy.allowed(user_id, tenant, object, action) {
        p.store.active_break_glass(user_id, tenant, p.now)?
    } else {
        None
    };
    if elevation.is_some() {
        let role = crate::authz::emergency::EMERGENCY_ROLE;
        roles.push(role.to_string());
        permissions.extend(p.policy.permissions(role, tenant));
        roles.sort();
        roles.dedup();
        permissions.sort();
        permissions.dedup();
    }
    let visible = |permission: &String| {
        permission
            .split_once(':')
            .is_some_and(|(object, _)| client.authz_resources.iter().any(|r| r == object))
    };
    permissions.retain(visible);
    let mut claims = json!({
        "tenant": tenant,
        "roles": roles,
        "permissions": permissions,
        "policy_version": p.policy.version(),
    });
    if let Some((id, expires_at)) = elevation {
        claims["break_glass"] = json!({ "id": id, "exp": expires_at / 1000 });
    }
    Ok(Some(claims))
}

fn merge(claims: &mut Value, extra: Option<&Value>) {
    if let (Some(target), Some(Value::Object(extra))) = (claims.as_object_mut(), extra) {
        for (k, v) in extra {
            target.insert(k.clone(), v.clone());
        }
    }
}

/// An RFC 9068 access token for `client`. `user_id`: the local user it acts
/// for (its `sub` is the one the client sees, `subject::of`), or None for a
/// client_credentials token, whose `sub` is the client id (RFC 9068 §2.2).
pub fn access_token(
    p: &Provider,
    client: &Client,
    user_id: Option<&str>,
    scope: &[String],
    facts: Option<&AuthFacts>,
    grant_id: Option<&str>,
    authz: Option<&Value>,
) -> Result<IssuedAccessToken, OAuthError> {
    let lifetime = client
        .access_token_seconds
        .unwrap_or(i64::from(p.tokens.access_token_seconds));
    let jti = match grant_id {
        Some(g) => format!("{g}.{}", secrets::generate(12)),
        None => secrets::generate(16),
    };
    let iat = p.now_secs();
    let sub = match user_id {
        Some(user) => subject::of(p, client, user),
        None => client.id.to_string(),
    };
    let mut claims = json!({
        "iss": p.issuer,
        "sub": sub,
        "aud": p.issuer,
        "client_id": client.id,
        "scope": scope.join(" "),
        "jti": jti,
        "iat": iat,
        "exp": iat + lifetime,
    });
    if let Some(f) = facts {
        claims["auth_time"] = json!(f.auth_time / 1000);
        claims["acr"] = json!(f.acr);
        claims["amr"] = json!(f.amr);
    }
    merge(&mut claims, authz);
    // RFC 9068 §2.1: "typ" is "at+jwt".
    let token = sign(p, ACCESS_TOKEN_ALG, "at+jwt", &claims)?;
    Ok(IssuedAccessToken {
        token,
        jti,
        expires_in: lifetime,
    })
}

pub fn id_token(
    p: &Provider,
    client: &Client,
    facts: &AuthFacts,
    nonce: Option<&str>,
    access_token: &str,
    authz: Option<&Value>,
    user_claims: Option<serde_json::Map<String, Value>>,
) -> Result<String, OAuthError> {
    let alg: Algorithm = client.id_token_alg.parse().unwrap_or(Algorithm::Rs256);
    let iat = p.now_secs();
    let mut claims = json!({
        "iss": p.issuer,
        "sub": subject::of(p, client, facts.user_id.as_str()),
        "aud": client.id,
        "iat": iat,
        "exp": iat + i64::from(p.tokens.id_token_seconds),
        "auth_time": facts.auth_time / 1000,
        "acr": facts.acr,
        "amr": facts.amr,
        "at_hash": at_hash(access_token),
    });
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    if let Some(s) = &facts.session_hash {
        claims["sid"] = json!(sid(s));
    }
    merge(&mut claims, authz);
    // User claims asked for by the `claims` parameter (OIDC Core §5.5); they
    // never replace a claim about the token or the authentication.
    if let Some(target) = claims.as_object_mut() {
        for (k, v) in user_claims.unwrap_or_default() {
            target.entry(k).or_insert(v);
        }
    }
    sign(p, alg, "JWT", &claims)
}

/// OpenID Connect Back-Channel Logout 1.0 §2.4: a logout token telling
/// `client` that the session (by its `sid`) of the local user `user_id` ended;
/// its `sub` is the one the client sees for them (`subject::of`). Signed like
/// the client's ID tokens; `typ` is `logout+jwt` (§2.4); never a `nonce` (§2.4).
pub fn logout_token(
    p: &Provider,
    client: &Client,
    user_id: &str,
    session: &SessionId,
) -> Result<String, OAuthError> {
    let alg: Algorithm = client.id_token_alg.parse().unwrap_or(Algorithm::Rs256);
    let iat = p.now_secs();
    let mut claims = json!({
        "iss": p.issuer,
        "aud": client.id,
        "iat": iat,
        "exp": iat + 120,
        "jti": secrets::generate(16),
        "sub": subject::of(p, client, user_id),
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
    });
    // No session: an erased person's grant or consent (docs/privacy.md); the
    // token then names the subject only (Back-Channel Logout 1.0 §2.4).
    if !session.as_str().is_empty() {
        claims["sid"] = json!(sid(session));
    }
    sign(p, alg, "logout+jwt", &claims)
}

/// Check a bearer access token: signature by one of Ward's keys, `typ`, issuer,
/// expiry, and that neither the token nor its grant was revoked.
pub fn verify_access_token(p: &Provider, token: &str) -> Result<Value, OAuthError> {
    verify_access_token_with_grant(p, token).map(|(claims, _)| claims)
}

/// [`verify_access_token`], with the grant a user token belongs to.
pub fn verify_access_token_with_grant(
    p: &Provider,
    token: &str,
) -> Result<(Value, Option<GrantRow>), OAuthError> {
    let invalid = || OAuthError::invalid_token("the access token is invalid, expired or revoked");
    let decoded = jwt::decode(token).ok_or_else(invalid)?;
    let typ_ok = decoded.typ().is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    });
    let verifier = decoded
        .kid()
        .and_then(|kid| p.keys.verifier(kid))
        .ok_or_else(invalid)?;
    if !typ_ok || !decoded.verify(verifier) {
        return Err(invalid());
    }
    let claims = decoded.claims;
    if claims.get("iss").and_then(Value::as_str) != Some(p.issuer) {
        return Err(invalid());
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(invalid)?;
    if exp <= p.now_secs() {
        return Err(invalid());
    }
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    if p.store.jti_revoked(jti)? {
        return Err(invalid());
    }
    let grant = match grant_of_jti(jti) {
        Some(grant_id) => match p.store.grant(grant_id)? {
            Some(g) if g.revoked_at.is_none() && g.user_active => Some(g),
            _ => return Err(invalid()),
        },
        None => None,
    };
    Ok((claims, grant))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_oidc_core_example() {
        // OIDC Core §A.3 example: at_hash for "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y" is "77QmUPtjPfzWtF2AnpK9RQ".
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn grant_ids_come_from_jtis() {
        assert_eq!(grant_of_jti("g1.abc"), Some("g1"));
        assert_eq!(grant_of_jti("abc"), None);
    }
}
