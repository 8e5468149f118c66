//! The user's answer on the consent page (OpenID Connect Core §3.1.2.4): an
//! approval is remembered for the client, a refusal ends the request with
//! `access_denied` (RFC 6749 §4.1.2.1). Both are audited.

use super::authorize::AuthorizationResponse;
use super::interaction::Interaction;
use super::{OAuthError, Provider};
use crate::audit::{AuditEvent, Outcome};
use crate::domain::records::User;

/// Record `user`'s decision on the interaction `found`. Returns the response
/// for the client when the user declined; None when the flow resumes.
pub fn decide(
    p: &Provider,
    found: &Interaction,
    user: &User,
    approve: bool,
) -> Result<Option<AuthorizationResponse>, OAuthError> {
    let req = &found.request;
    let scopes = req.consent_scopes();
    let event = |outcome| {
        AuditEvent::new(
            p.now,
            format!("user:{}", user.id),
            "consent.decision",
            outcome,
        )
        .subject(user.id.as_str())
        .client(&req.client_id)
        .detail("scope", scopes.join(" "))
    };
    if approve {
        let approved = event(Outcome::Success);
        p.store
            .save_consent(&user.id, &req.client_id, &scopes, p.now, &approved)?;
        return Ok(None);
    }
    p.store.use_auth_request(&found.id_hash, p.now)?;
    p.store
        .audit(event(Outcome::Failure).reason("consent_denied"))?;
    let declined = OAuthError::access_denied("the user declined");
    Ok(Some(req.target().error(p.issuer, &declined)))
}
