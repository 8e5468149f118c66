//! OIDC Core §5.3: claims about the user, per granted scope.

use serde_json::{Value, json};

use super::error::OAuthError;
use super::{Provider, claims, disclosure, subject, tokens};
use crate::domain::UserStatus;
use crate::domain::disclosure::{Disclosure, DisclosureKind};
use crate::domain::records::{Client, User};
use crate::store::GrantRow;

/// The userinfo answer for `access_token`, recorded as one disclosure
/// (docs/privacy.md) before it is returned: durable when this returns.
pub fn claims(p: &Provider, access_token: &str) -> Result<Value, OAuthError> {
    let (out, disclosure) = answer(p, access_token)?;
    p.store.disclose(disclosure)?;
    Ok(out)
}

fn answer(p: &Provider, access_token: &str) -> Result<(Value, Disclosure), OAuthError> {
    let (token, grant) = tokens::verify_access_token_with_grant(p, access_token)?;
    let scope: Vec<&str> = token
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split(' ')
        .collect();
    if !scope.contains(&"openid") {
        return Err(OAuthError::insufficient_scope(
            "the access token was not granted the openid scope",
        ));
    }
    let invalid = || OAuthError::invalid_token("the access token is invalid, expired or revoked");
    // The user is the grant's; the token's `sub` is the one its client sees
    // for them (OIDC Core §8), and the answer carries that same `sub` (§5.3.2:
    // it must match the ID token's).
    let user_id = subject::user_of_access_token(p, &token, grant.as_ref())?.ok_or_else(invalid)?;
    let user = p
        .store
        .user(user_id.as_str())?
        .filter(|u| u.status == UserStatus::Active)
        .ok_or_else(invalid)?;
    // The client's registration as it is now: a narrowed allow-list applies
    // to tokens issued before the change, too.
    let client = tokens::client_of(&token)
        .map(|id| p.store.client(&id))
        .transpose()?
        .flatten()
        .ok_or_else(invalid)?;
    let mut out = json!({ "sub": token["sub"] });
    // OIDC Core §5.4: profile, email, phone and address ask for their claims,
    // as far as the client's allow-list lets it have them.
    for (k, v) in claims::for_scopes(&user, &scope, &client) {
        out[k] = v;
    }
    // §5.5: and the `claims` parameter for userinfo, even without their scope,
    // as far as the client's registration allows.
    if let Some(requests) = grant
        .as_ref()
        .and_then(|g| g.claims.as_ref())
        .filter(|c| !c.userinfo.is_empty())
    {
        for (k, v) in claims::requested(&user, &requests.userinfo, &client) {
            out[k] = v;
        }
    }
    let granted: Vec<String> = scope.iter().map(|s| s.to_string()).collect();
    let tenant = token.get("tenant").and_then(Value::as_str);
    extras(
        p,
        &mut out,
        &client,
        &user,
        &granted,
        tenant,
        grant.as_ref(),
    )?;
    let sub = out["sub"].as_str().unwrap_or_default().to_string();
    let disclosure = disclosure::record(
        p,
        disclosure::Answer {
            kind: DisclosureKind::Userinfo,
            user_id: &user_id,
            to: &client.id,
            sub: &sub,
            claims: disclosure::claim_names([&out]),
            scopes: granted,
            tenant: grant.as_ref().and_then(|g| g.facts.tenant.as_deref()),
            consent_client: None,
        },
    );
    Ok((out, disclosure))
}

/// SMART's `fhirUser` and the `roles` scope's claims.
fn extras(
    p: &Provider,
    out: &mut Value,
    client: &Client,
    user: &User,
    granted: &[String],
    tenant: Option<&str>,
    grant: Option<&GrantRow>,
) -> Result<(), OAuthError> {
    // SMART's `fhirUser` (an absolute URL), with the fhirUser scope.
    if let Some(url) =
        super::smart_launch::fhir_user_claim(grant.and_then(|g| g.smart.as_ref()), granted)
    {
        out["fhirUser"] = json!(url);
    }
    // The `roles` scope: the token's tenant, evaluated against the policy now.
    if granted.iter().any(|s| s == "roles")
        && let Some(Value::Object(authz)) =
            tokens::authorization_claims(p, client, user.id.as_str(), tenant)?
    {
        for (k, v) in authz {
            out[k] = v;
        }
    }
    Ok(())
}
