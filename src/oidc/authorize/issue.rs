//! Issuing the authorization code (RFC 6749 §4.1.2) once the user is done.

use super::{AuthorizationRequest, AuthorizationResponse, tenant_choices};
use crate::audit::{AuditEvent, Outcome};
use crate::crypto::secrets;
use crate::oidc::Provider;
use crate::oidc::error::OAuthError;
use crate::oidc::{smart_launch, tokens};
use crate::store::{AuthFacts, CodeRow, SessionRow};

/// The tenant whose roles the tokens carry: the one requested (the user must
/// hold a role there), or the user's only organisation. A user of several
/// organisations gets none unless the client asks for one.
fn resolve_tenant(
    p: &Provider,
    req: &AuthorizationRequest,
    user_id: &str,
) -> Result<Option<String>, OAuthError> {
    let tenants = tenant_choices(p, user_id);
    match &req.tenant {
        Some(t) if p.policy.tenants(user_id).contains(t) => Ok(Some(t.clone())),
        Some(_) => Err(OAuthError::access_denied(
            "the user has no role in the requested tenant",
        )),
        None if tenants.len() == 1 => Ok(tenants.into_iter().next()),
        None => Ok(None),
    }
}

/// Issue the code and build the success response.
pub fn issue_code(
    p: &Provider,
    req: &AuthorizationRequest,
    session: &SessionRow,
    interaction: Option<&str>,
) -> Result<AuthorizationResponse, OAuthError> {
    let code = secrets::generate(32);
    let smart = smart_launch::grant_context(p, req, session.user_id.as_str())?;
    let row = CodeRow {
        code_hash: secrets::hash(&code),
        client_id: req.client_id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        scope: req.scope.clone(),
        nonce: req.nonce.clone(),
        code_challenge: req.code_challenge.clone(),
        facts: AuthFacts {
            user_id: session.user_id.clone(),
            auth_time: session.auth_time,
            acr: session.acr,
            amr: session.amr.clone(),
            session_hash: Some(session.id_hash.clone()),
            tenant: resolve_tenant(p, req, session.user_id.as_str())?,
        },
        created_at: p.now,
        expires_at: p.now + i64::from(p.tokens.authorization_code_seconds) * 1000,
        consumed_at: None,
        grant_id: None,
        user_active: true,
        claims: req.claims.clone(),
        smart,
    };
    let mut audit = AuditEvent::new(
        p.now,
        format!("user:{}", session.user_id),
        "authorization.code_issued",
        Outcome::Success,
    )
    .subject(session.user_id.as_str())
    .client(&req.client_id)
    .detail("scope", req.scope.join(" "))
    .detail("sid", tokens::sid(&session.id_hash));
    if !req.acr_values.is_empty() {
        audit = audit.detail("acr_values_requested", req.acr_values.join(" "));
    }
    if let Some(c) = &req.claims {
        audit = audit.detail("claims_requested", c.names().join(" "));
    }
    if let Some(s) = &row.smart {
        // Who, which patient, which app (SMART: the context chosen at issue).
        audit = audit
            .detail("aud", s.aud.as_str())
            .detail(
                "launch",
                if req.smart.as_ref().is_some_and(|r| r.launch.is_some()) {
                    "ehr"
                } else {
                    "standalone"
                },
            )
            .detail("patient", s.context.patient.clone().unwrap_or_default())
            .detail("encounter", s.context.encounter.clone().unwrap_or_default());
    }
    if !p.store.create_code(&row, interaction, &audit)? {
        return Err(OAuthError::invalid_request(
            "this sign-in was already completed; return to the application and sign in again",
        ));
    }
    let mut params = vec![("code".to_string(), code)];
    if let Some(s) = &req.state {
        params.push(("state".into(), s.clone()));
    }
    // RFC 9207: the issuer in every authorization response.
    params.push(("iss".into(), p.issuer.to_string()));
    Ok(AuthorizationResponse {
        target: req.target(),
        params,
    })
}
