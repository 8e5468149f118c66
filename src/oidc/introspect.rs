//! RFC 7662 token introspection. A client learns only about tokens issued to
//! it, with one exception for SMART: a FHIR server's own client may
//! introspect the access tokens meant for a FHIR server of a tenant where it
//! holds `smart`/`introspect` (RFC 7662 §4: the authorization server decides
//! whether "the token can be used at the protected resource making the
//! introspection call"; SMART App Launch 2.2.0 §"Token Introspection").
//! Anything else, unknown, expired or revoked is `{"active": false}`.

use serde_json::{Value, json};

use super::error::OAuthError;
use super::params::Params;
use super::{Provider, disclosure, subject, tokens};
use crate::crypto::secrets;
use crate::domain::ClientType;
use crate::domain::disclosure::{Disclosure, DisclosureKind};
use crate::domain::records::Client;
use crate::store::GrantRow;

pub fn introspect(p: &Provider, caller: &Client, params: &Params) -> Result<Value, OAuthError> {
    // RFC 7662 §2.1 requires authorization: a public client (no credentials) may not probe tokens.
    if caller.client_type != ClientType::Confidential {
        return Err(OAuthError::invalid_client(
            "introspection needs an authenticated confidential client",
        ));
    }
    let token = params.require("token")?;
    let (out, about) = if token.contains('.') {
        access_token(p, caller, token)?
    } else {
        refresh_token(p, caller, token)?
    };
    // An active answer about a person is a disclosure to the caller
    // (docs/privacy.md), recorded before it is returned.
    if let Some(grant) = about {
        p.store.disclose(disclosure_of(p, caller, &grant, &out))?;
    }
    Ok(out)
}

fn inactive() -> (Value, Option<GrantRow>) {
    (json!({ "active": false }), None)
}

/// A JWT access token: its claims, to its client or to the FHIR server it is for.
fn access_token(
    p: &Provider,
    caller: &Client,
    token: &str,
) -> Result<(Value, Option<GrantRow>), OAuthError> {
    let (claims, grant) = match tokens::verify_access_token_with_grant(p, token) {
        Ok(c) => c,
        Err(e) if e.code == "invalid_token" => return Ok(inactive()),
        Err(e) => return Err(e),
    };
    let issued_to_caller = tokens::client_of(&claims).as_ref() == Some(&caller.id);
    if !issued_to_caller && !resource_server_may_see(p, caller, &claims)? {
        return Ok(inactive());
    }
    let mut out = json!({ "active": true, "token_type": "Bearer" });
    for k in [
        "scope",
        "client_id",
        "sub",
        "aud",
        "iss",
        "exp",
        "iat",
        "jti",
        "auth_time",
        "acr",
        // SMART App Launch 2.2.0 §"Token Introspection": the launch
        // context, so a FHIR server need not parse the token.
        "patient",
        "encounter",
        "fhirContext",
        "fhirUser",
    ] {
        if let Some(v) = claims.get(k) {
            out[k] = v.clone();
        }
    }
    // A client_credentials token (no grant) is about no person.
    Ok((out, grant))
}

/// A refresh token: only to the grant's client.
fn refresh_token(
    p: &Provider,
    caller: &Client,
    token: &str,
) -> Result<(Value, Option<GrantRow>), OAuthError> {
    let Some((row, grant)) = p.store.refresh_token(&secrets::hash(token))? else {
        return Ok(inactive());
    };
    if grant.client_id != caller.id
        || row.rotated_at.is_some()
        || grant.revoked_at.is_some()
        || grant.expires_at <= p.now
        || !grant.user_active
    {
        return Ok(inactive());
    }
    // The `sub` the caller (the grant's client) sees, as in its tokens (OIDC Core §8).
    let mut out = json!({
        "active": true,
        "scope": grant.scope.join(" "),
        "client_id": grant.client_id,
        "sub": subject::of(p, caller, grant.facts.user_id.as_str()),
        "iss": p.issuer,
        "iat": row.created_at / 1000,
        "exp": grant.expires_at / 1000,
    });
    // A SMART grant's refresh token: the FHIR server and the launch context.
    if let Some(Value::Object(extra)) =
        super::smart_launch::access_token_claims(grant.smart.as_ref(), &grant.scope, None)
    {
        for (k, v) in extra {
            out[k] = v;
        }
    }
    Ok((out, Some(grant)))
}

/// The disclosure of an active answer about `grant`'s person to `caller`,
/// under the `sub` the answer carries; the grant's client's consent covers it.
fn disclosure_of(p: &Provider, caller: &Client, grant: &GrantRow, out: &Value) -> Disclosure {
    let scopes = out["scope"]
        .as_str()
        .map(super::scope_list)
        .unwrap_or_default();
    disclosure::record(
        p,
        disclosure::Answer {
            kind: DisclosureKind::Introspection,
            user_id: &grant.facts.user_id,
            to: &caller.id,
            sub: out["sub"].as_str().unwrap_or_default(),
            claims: disclosure::claim_names([out]),
            scopes,
            tenant: grant.facts.tenant.as_deref(),
            consent_client: Some(&grant.client_id),
        },
    )
}

/// Whether `caller` introspects as the FHIR server an access token is for:
/// the token's `aud` is a registered FHIR server, and the caller's own roles
/// in that server's tenant allow `smart`/`introspect` (docs/smart.md).
fn resource_server_may_see(
    p: &Provider,
    caller: &Client,
    claims: &Value,
) -> Result<bool, OAuthError> {
    let Some(aud) = claims.get("aud").and_then(Value::as_str) else {
        return Ok(false);
    };
    let Some(server) = p.store.fhir_server(aud)? else {
        return Ok(false);
    };
    let subject = crate::authz::client_subject(&caller.id);
    Ok(p.policy
        .allowed(&subject, &server.tenant, "smart", "introspect"))
}
