//! The token endpoint's grants, one file each, assembled by [`exchange`].

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

use serde::Serialize;

use super::error::OAuthError;
use super::params::Params;
use super::tokens::{self, IssuedAccessToken};
use super::{Provider, claims, disclosure, smart_launch, smart_scopes};
use crate::audit::{AuditEvent, Outcome};
use crate::domain::GrantType;
use crate::domain::disclosure::{Disclosure, DisclosureKind, TokenDisclosure};
use crate::domain::records::Client;
use crate::store::GrantRow;

/// RFC 6749 §5.1 (plus `id_token`, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
    /// SMART App Launch 2.2.0 §"Launch context arrives with your
    /// access_token": `patient`, `encounter`, `fhirContext`,
    /// `need_patient_banner`, `smart_style_url`, `intent`, when they apply.
    #[serde(flatten)]
    pub context: serde_json::Map<String, serde_json::Value>,
}

/// Dispatch on `grant_type` for an authenticated client.
pub fn exchange(
    p: &Provider,
    client: &Client,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    if let Some(name) = params.first_repeated() {
        return Err(OAuthError::invalid_request(format!(
            "parameter `{name}` is repeated"
        )));
    }
    let grant_type = parse_grant_type(params.require("grant_type")?)?;
    if !may_use(client, grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "this client may not use the {} grant",
            grant_type.as_str()
        )));
    }
    match grant_type {
        GrantType::AuthorizationCode => authorization_code::exchange(p, client, params),
        GrantType::RefreshToken => refresh_token::exchange(p, client, params),
        GrantType::ClientCredentials => client_credentials::exchange(p, client, params),
    }
}

/// The grant type a request names; any other is `unsupported_grant_type`
/// (RFC 6749 §5.2), the password grant with the reason (RFC 9700 §2.4).
fn parse_grant_type(value: &str) -> Result<GrantType, OAuthError> {
    match value {
        "password" => Err(OAuthError::unsupported_grant_type(
            "the password grant is not supported (RFC 9700 §2.4)",
        )),
        other => other
            .parse()
            .map_err(|_| OAuthError::unsupported_grant_type("unsupported grant_type")),
    }
}

/// Whether `client` is registered for `grant`.
pub(crate) fn may_use(client: &Client, grant: GrantType) -> bool {
    client.grant_types.contains(&grant)
}

/// What a user grant (code or refresh) returns, before the grant's state change commits.
pub(crate) struct UserTokens {
    /// The scope the tokens carry: the grant's, with SMART clinical scopes
    /// narrowed by the policy as it is now (RFC 6749 §5.1 `scope`).
    pub scope: Vec<String>,
    pub access: IssuedAccessToken,
    pub id_token: Option<String>,
    /// The issuance's audit record, to be written with the state change.
    /// It carries the tokens' disclosure (docs/privacy.md), one row per
    /// token response, which the audit sealer writes when it chains the
    /// record: durable with the tokens, and no statement of its own.
    pub audit: AuditEvent,
    /// The SMART launch context of the token response (empty without one).
    pub context: serde_json::Map<String, serde_json::Value>,
}

/// Sign the access token (bound to the grant) and, when `openid` is in `scope`,
/// the ID token; describe the issuance for the audit trail.
pub(crate) fn user_tokens(
    p: &Provider,
    client: &Client,
    grant: &GrantRow,
    scope: &[String],
    nonce: Option<&str>,
    grant_type: GrantType,
) -> Result<UserTokens, OAuthError> {
    let user_id = grant.facts.user_id.as_str();
    let tenant = grant.facts.tenant.as_deref();
    let authz = tokens::authorization_claims(p, client, user_id, tenant)?;
    let smart = grant.smart.as_ref();
    let patient = smart.is_some_and(|s| s.context.patient.is_some());
    let asked = scope;
    let scope = &smart_scopes::for_user(p, user_id, tenant, scope, patient);
    // The access token's extra claims: the roles and permissions, and for
    // SMART the FHIR server as `aud` and the launch context.
    let extra = smart_launch::access_token_claims(smart, scope, authz.as_ref());
    let access = tokens::access_token(
        p,
        client,
        Some(user_id),
        scope,
        Some(&grant.facts),
        Some(&grant.id),
        extra.as_ref(),
    )?;
    let id_token = id_token_of(
        p,
        client,
        grant,
        scope,
        nonce,
        &access.token,
        authz.as_ref(),
    )?;
    let audit = AuditEvent::new(
        p.now,
        format!("client:{}", client.id),
        "token.issued",
        Outcome::Success,
    )
    .subject(user_id)
    .client(&client.id)
    .detail("grant_type", grant_type.as_str())
    .detail("grant", grant.id.as_str())
    .detail("jti", access.jti.as_str());
    // Every scope reduction is on the record (SMART: which app got what).
    let audit = if scope.as_slice() == asked {
        audit
    } else {
        audit
            .detail("scope", scope.join(" "))
            .detail("scope_reduced_from", asked.join(" "))
    };
    let disclosure = disclosure_of(p, client, grant, scope, &access.token, id_token.as_deref());
    let disclosure = serde_json::to_value(TokenDisclosure::of(&disclosure)).unwrap_or_default();
    let audit = audit.detail(TokenDisclosure::DETAIL, disclosure);
    Ok(UserTokens {
        scope: scope.clone(),
        access,
        id_token,
        audit,
        context: smart
            .map(crate::smart::SmartGrant::token_response_fields)
            .unwrap_or_default(),
    })
}

/// A token response's disclosure: the claims about the person in the ID
/// token (if any) and the access token, to the client, under the `sub` it sees.
fn disclosure_of(
    p: &Provider,
    client: &Client,
    grant: &GrantRow,
    scope: &[String],
    access_token: &str,
    id_token: Option<&str>,
) -> Disclosure {
    let access = disclosure::token_claims(access_token);
    let id = id_token.map(disclosure::token_claims);
    let sub = access["sub"].as_str().unwrap_or_default().to_string();
    disclosure::record(
        p,
        disclosure::Answer {
            kind: if id.is_some() {
                DisclosureKind::IdToken
            } else {
                DisclosureKind::AccessToken
            },
            user_id: &grant.facts.user_id,
            to: &client.id,
            sub: &sub,
            claims: disclosure::claim_names([Some(&access), id.as_ref()].into_iter().flatten()),
            scopes: scope.to_vec(),
            tenant: grant.facts.tenant.as_deref(),
            consent_client: None,
        },
    )
}

/// The ID token, when `openid` is in `scope`: the `claims` parameter's
/// claims (OIDC Core §5.5), SMART's `fhirUser`, and the roles only when the
/// client asked for the `roles` scope.
fn id_token_of(
    p: &Provider,
    client: &Client,
    grant: &GrantRow,
    scope: &[String],
    nonce: Option<&str>,
    access_token: &str,
    authz: Option<&serde_json::Value>,
) -> Result<Option<String>, OAuthError> {
    if !scope.iter().any(|s| s == "openid") {
        return Ok(None);
    }
    let user_id = grant.facts.user_id.as_str();
    let mut requested = match grant.claims.as_ref().filter(|c| !c.id_token.is_empty()) {
        Some(c) => p
            .store
            .user(user_id)?
            .map(|u| claims::requested(&u, &c.id_token, client)),
        None => None,
    };
    if let Some(url) = smart_launch::fhir_user_claim(grant.smart.as_ref(), scope) {
        requested
            .get_or_insert_with(Default::default)
            .insert("fhirUser".into(), url.into());
    }
    let roles_scope = scope.iter().any(|s| s == "roles");
    Ok(Some(tokens::id_token(
        p,
        client,
        &grant.facts,
        nonce,
        access_token,
        authz.filter(|_| roles_scope),
        requested,
    )?))
}

#[cfg(test)]
mod tests;
