//! The user's answer on the consent page (OpenID Connect Core §3.1.2.4): an
//! approval is recorded as the next version of the user's consent record for
//! the client (docs/privacy.md), a refusal ends the request with
//! `access_denied` (RFC 6749 §4.1.2.1). Both are audited.
//!
//! A consent covers a request when it has every scope and every claim the
//! request would share, and was given for the client's purpose text as it
//! is now; otherwise the person is asked again. A first-party client's
//! consent is implied by policy, and recorded as such.
//!
//! An approval may leave out clinical scopes (SMART App Launch 2.2.0 §"Scopes
//! and Launch Context": the user "may grant a subset"). The pending request is
//! then narrowed to what was approved, so the code, the tokens and the
//! remembered consent carry exactly that; the next request for more asks again.

use super::authorize::{AuthorizationRequest, AuthorizationResponse};
use super::interaction::{Interaction, consent_items};
use super::{OAuthError, Provider, claims};
use crate::audit::{AuditEvent, Outcome};
use crate::domain::UserId;
use crate::domain::consent::{ConsentGiven, ConsentRecord};
use crate::domain::records::{Client, User};

/// What a request asks the person to agree to: the scopes (with those of the
/// claims it names, OIDC Core §5.5) and the claims it would share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub scopes: Vec<String>,
    pub claims: Vec<String>,
}

impl Wanted {
    pub fn of(req: &AuthorizationRequest, client: &Client) -> Self {
        Self {
            scopes: req.consent_scopes(),
            claims: claims::shared(client, &req.scope, req.claims.as_ref()),
        }
    }
}

/// Whether `record` covers what is wanted now: every scope and claim, and
/// the client's purpose text unchanged (a new purpose is a new question:
/// GDPR Art. 6(1)(a), consent is for "one or more specific purposes").
pub fn covers(record: &ConsentRecord, client: &Client, wanted: &Wanted) -> bool {
    let consented = claims::consented(record);
    record.purpose == client.purpose
        && wanted.scopes.iter().all(|s| record.scopes.contains(s))
        && wanted.claims.iter().all(|c| consented.contains(c))
}

/// A new consent record (version assigned when stored).
pub fn new_record(
    p: &Provider,
    user_id: &UserId,
    client: &Client,
    wanted: Wanted,
    given_by: ConsentGiven,
) -> ConsentRecord {
    let mut scopes = wanted.scopes;
    scopes.sort();
    scopes.dedup();
    ConsentRecord {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user_id.to_string(),
        client_id: client.id.clone(),
        version: 0,
        scopes,
        claims: Some(wanted.claims),
        purpose: client.purpose.clone(),
        given_at: p.now,
        given_by,
        policy_version: p.consent_policy_version.to_string(),
        withdrawn_at: None,
        withdrawn_by: None,
    }
}

/// The audit record of a consent given.
fn given_event(p: &Provider, record: &ConsentRecord) -> AuditEvent {
    AuditEvent::new(
        p.now,
        format!("user:{}", record.user_id),
        "consent.decision",
        Outcome::Success,
    )
    .subject(record.user_id.as_str())
    .client(&record.client_id)
    .detail("scope", record.scopes.join(" "))
    .detail(
        "claims",
        record.claims.clone().unwrap_or_default().join(" "),
    )
    .detail("given_by", record.given_by.as_str())
    .detail("policy_version", record.policy_version.as_str())
}

/// A first-party client's request is about to be answered without a page:
/// record the consent its policy implies, unless one already covers it.
pub fn imply_first_party(
    p: &Provider,
    user_id: &UserId,
    client: &Client,
    req: &AuthorizationRequest,
    existing: Option<&ConsentRecord>,
) -> Result<(), OAuthError> {
    let wanted = Wanted::of(req, client);
    if !client.first_party || existing.is_some_and(|c| covers(c, client, &wanted)) {
        return Ok(());
    }
    let record = new_record(p, user_id, client, wanted, ConsentGiven::FirstParty);
    p.store.save_consent(&record, &given_event(p, &record))?;
    Ok(())
}

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
    let mut narrowed = req.clone();
    narrowed.scope.retain(|s| !left_out.contains(s));
    if !left_out.is_empty() {
        let params = serde_json::to_string(&narrowed).map_err(|_| OAuthError::server_error())?;
        p.store.update_auth_request(&found.id_hash, &params)?;
    }
    let client = p
        .store
        .client(&req.client_id)?
        .ok_or_else(|| OAuthError::invalid_request("the app is no longer registered"))?;
    let wanted = Wanted::of(&narrowed, &client);
    let record = new_record(p, &user.id, &client, wanted, ConsentGiven::Page);
    let mut audit = given_event(p, &record);
    if !left_out.is_empty() {
        audit = audit.detail("left_out", left_out.join(" "));
    }
    p.store.save_consent(&record, &audit)?;
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
