//! The user's answer on the consent page (OpenID Connect Core §3.1.2.4): an
//! approval is remembered for the client, a refusal ends the request with
//! `access_denied` (RFC 6749 §4.1.2.1). Both are audited.
//!
//! An approval may leave out clinical scopes (SMART App Launch 2.2.0 §"Scopes
//! and Launch Context": the user "may grant a subset"). The pending request is
//! then narrowed to what was approved, so the code, the tokens and the
//! remembered consent carry exactly that; the next request for more asks again.

use super::authorize::AuthorizationResponse;
use super::interaction::{Interaction, consent_items};
use super::{OAuthError, Provider};
use crate::audit::{AuditEvent, Outcome};
use crate::domain::records::User;

/// What the person answered on the consent page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allow, with the optional (clinical) scopes that were left ticked.
    Approve {
        kept: Vec<String>,
    },
    Deny,
}

/// Record `user`'s decision on the interaction `found`. Returns the response
/// for the client when the user declined; None when the flow resumes.
pub fn decide(
    p: &Provider,
    found: &Interaction,
    user: &User,
    decision: Decision,
) -> Result<Option<AuthorizationResponse>, OAuthError> {
    let req = &found.request;
    let requested = req.consent_scopes();
    let event = |outcome, scopes: &[String]| {
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
    let Decision::Approve { kept } = decision else {
        p.store.use_auth_request(&found.id_hash, p.now)?;
        p.store
            .audit(event(Outcome::Failure, &requested).reason("consent_denied"))?;
        let declined = OAuthError::access_denied("the user declined");
        return Ok(Some(req.target().error(p.issuer, &declined)));
    };
    let left_out = left_out(&requested, &kept)?;
    let approved: Vec<String> = requested
        .iter()
        .filter(|s| !left_out.contains(s))
        .cloned()
        .collect();
    let mut record = event(Outcome::Success, &approved);
    if !left_out.is_empty() {
        let mut narrowed = req.clone();
        narrowed.scope.retain(|s| !left_out.contains(s));
        let params = serde_json::to_string(&narrowed).map_err(|_| OAuthError::server_error())?;
        p.store.update_auth_request(&found.id_hash, &params)?;
        record = record.detail("left_out", left_out.join(" "));
    }
    p.store
        .save_consent(&user.id, &req.client_id, &approved, p.now, &record)?;
    Ok(None)
}

/// The optional scopes of `requested` that are not in `kept`. A kept value
/// that is not an optional requested scope means a forged or stale form.
fn left_out(requested: &[String], kept: &[String]) -> Result<Vec<String>, OAuthError> {
    let items = consent_items(requested);
    if let Some(bad) = kept
        .iter()
        .find(|k| !items.iter().any(|i| i.optional && &i.scope == *k))
    {
        return Err(OAuthError::invalid_request(format!(
            "the app did not ask for {bad:?}: reload the page and try again"
        )));
    }
    Ok(items
        .into_iter()
        .filter(|i| i.optional && !kept.contains(&i.scope))
        .map(|i| i.scope)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn only_clinical_scopes_can_be_left_out() {
        let requested = strings("openid launch patient/Observation.rs patient/Patient.r");
        assert_eq!(
            left_out(&requested, &strings("patient/Patient.r")).unwrap(),
            strings("patient/Observation.rs")
        );
        assert!(
            left_out(
                &requested,
                &strings("patient/Observation.rs patient/Patient.r")
            )
            .unwrap()
            .is_empty()
        );
        // A form cannot keep what was not asked for, nor "keep" a fixed scope.
        assert!(left_out(&requested, &strings("patient/Condition.r")).is_err());
        assert!(left_out(&requested, &strings("openid")).is_err());
    }
}
