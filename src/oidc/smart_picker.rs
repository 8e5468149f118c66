//! The standalone launch's patient and encounter pickers (SMART App Launch
//! 2.2.0 §"Standalone Launch"; docs/smart.md). After sign-in and before
//! consent, a request that needs a patient (`launch/patient`, a `patient/`
//! scope) with none in context, from a user whose FHIR user is not a
//! Patient, sends the user to a page where they search the tenant's FHIR
//! server (the request's `aud`) by name and choose one of the results;
//! `launch/encounter` then lists that patient's encounters the same way.
//!
//! - Only a user whose roles in the tenant allow searching the resource type
//!   (`fhir:Patient` / `fhir:Encounter`, action `s`) gets a picker; anyone
//!   else gets `access_denied` at the client, as does `launch/encounter`
//!   with no patient to list encounters for.
//! - Ward searches with an RFC 9068 access token it mints for itself:
//!   `system/Patient.rs` (or `system/Encounter.rs`), `aud` the FHIR base URL,
//!   `sub` and `client_id` Ward's issuer, for [`TOKEN_SECONDS`].
//! - The ids a search returned are kept with the pending request; a choice
//!   must be one of them (a posted id is never taken on trust).
//! - The FHIR call runs between store calls, never inside a transaction.
//! - Audited: every search (`smart.picker.search`: who, the tenant, the FHIR
//!   server, the resource type, the token's id, how many results; not the
//!   name typed, which is itself health information about whoever was looked
//!   up) and every choice (`smart.context.chosen`: who, which patient or
//!   encounter, which app).

use serde_json::{Value, json};

use super::Provider;
use super::authorize::AuthorizationRequest;
use super::error::OAuthError;
use super::interaction::Interaction;
use super::smart_launch::{NO_ENCOUNTER, NO_PATIENT, Picked, known_context, wants_patient};
use crate::audit::{AuditEvent, Outcome};
use crate::crypto::secrets;
use crate::domain::records::User;
use crate::jwks::FetchError;
use crate::smart::launch::is_fhir_id;
use crate::smart::picker;
pub use crate::smart::picker::{Candidate, Candidates, Pick};

/// The largest search answer Ward reads (50 patients are about 30 KiB).
pub const MAX_BYTES: u64 = 256 * 1024;
/// The lifetime of the token Ward mints for one search.
pub const TOKEN_SECONDS: i64 = 60;

/// One FHIR search: `GET url` with the bearer token, the answer as JSON.
/// HTTP in the server ([`Http`]), a fake in unit tests.
pub trait FhirGet: Send + Sync {
    fn get(&self, url: &str, bearer: &str) -> Result<Value, FetchError>;
}

/// The real search: `jwks::fetch::get`'s guards (5 s, no redirect, no
/// proxy), at most [`MAX_BYTES`]. The base URL is an administrator's
/// registration (https, or http on loopback), so private addresses are
/// allowed: a hospital's FHIR server is usually on its own network.
#[derive(Debug, Clone, Copy)]
pub struct Http;

impl FhirGet for Http {
    fn get(&self, url: &str, bearer: &str) -> Result<Value, FetchError> {
        let auth = format!("Bearer {bearer}");
        let headers = [
            ("Accept", "application/fhir+json"),
            ("Authorization", &auth),
        ];
        let body = crate::jwks::fetch::get(url, &headers, MAX_BYTES, true)?;
        serde_json::from_slice(&body).map_err(|_| FetchError::Invalid("is not JSON"))
    }
}

fn has(scope: &[String], name: &str) -> bool {
    scope.iter().any(|s| s == name)
}

/// What `user_id` must still choose before consent, if anything; a refusal
/// (`access_denied`, audited as `smart.context.refused`) when the request
/// needs a choice this user may not make.
pub fn needed(
    p: &Provider,
    req: &AuthorizationRequest,
    user_id: &str,
) -> Result<Option<Pick>, OAuthError> {
    let Some(smart) = &req.smart else {
        return Ok(None);
    };
    let wants_encounter = has(&req.scope, "launch/encounter");
    if smart.ehr_user.as_deref().is_some_and(|u| u != user_id)
        || !(wants_patient(&req.scope) || wants_encounter)
    {
        // The wrong user is refused when the code is issued.
        return Ok(None);
    }
    let fhir_user = p.store.fhir_user(user_id)?;
    let known = known_context(smart, &req.scope, fhir_user.as_deref(), user_id);
    let tenant = req.tenant.as_deref().unwrap_or_default();
    let may = |pick: Pick| {
        let object = format!("fhir:{}", pick.resource_type());
        p.policy.allowed(user_id, tenant, &object, "s")
    };
    let pick = if wants_patient(&req.scope) && known.patient.is_none() {
        Pick::Patient
    } else if wants_encounter && known.encounter.is_none() {
        if known.patient.is_none() {
            return refuse(p, req, user_id, "no_patient", NO_ENCOUNTER_PATIENT);
        }
        Pick::Encounter
    } else {
        return Ok(None);
    };
    if !may(pick) {
        let why = match pick {
            Pick::Patient => NO_PATIENT,
            Pick::Encounter => NO_ENCOUNTER,
        };
        return refuse(p, req, user_id, "not_permitted", why);
    }
    Ok(Some(pick))
}

const NO_ENCOUNTER_PATIENT: &str = "no encounter in context: outside an EHR launch, \
     launch/encounter needs a patient in context to list encounters for; ask for \
     launch/patient as well";

fn refuse(
    p: &Provider,
    req: &AuthorizationRequest,
    user_id: &str,
    reason: &str,
    why: &str,
) -> Result<Option<Pick>, OAuthError> {
    let event = AuditEvent::new(
        p.now,
        format!("user:{user_id}"),
        "smart.context.refused",
        Outcome::Failure,
    )
    .subject(user_id)
    .client(&req.client_id)
    .reason(reason)
    .detail("tenant", req.tenant.clone().unwrap_or_default());
    p.store.audit(event)?;
    Err(OAuthError::access_denied(why))
}

/// What a search came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Searched {
    /// The candidates, now the only ids that may be chosen.
    Found(Candidates),
    /// The name typed cannot be searched for: the message for the field.
    BadInput(&'static str),
    /// The FHIR server could not be used: the message for the person.
    Unavailable(&'static str),
}

/// The page for an interaction that has nothing (or something else) to choose.
pub const NOTHING_TO_CHOOSE: &str = "There is nothing to choose for this sign-in any more. \
     Return to the application and start again.";

/// The interaction's request, if `pick` is what `user` must choose now.
fn expecting<'a>(
    p: &Provider,
    found: &'a Interaction,
    user: &User,
    pick: Pick,
) -> Result<&'a crate::oidc::smart_launch::SmartRequest, OAuthError> {
    match (
        needed(p, &found.request, user.id.as_str())?,
        &found.request.smart,
    ) {
        (Some(now), Some(smart)) if now == pick => Ok(smart),
        _ => Err(OAuthError::invalid_request(NOTHING_TO_CHOOSE)),
    }
}

/// Search the FHIR server for `pick`: patients by the name `text`, or the
/// encounters of the patient in context. The ids found are bound to the
/// interaction (and to `user`), with the audit record, in one transaction.
pub fn search(
    p: &Provider,
    fhir: &dyn FhirGet,
    found: &Interaction,
    user: &User,
    pick: Pick,
    text: &str,
) -> Result<Searched, OAuthError> {
    let smart = expecting(p, found, user, pick)?;
    let req = &found.request;
    let value = match pick {
        Pick::Patient => match picker::check_search(text) {
            Ok(name) => name.to_string(),
            Err(why) => return Ok(Searched::BadInput(why)),
        },
        Pick::Encounter => {
            let fhir_user = p.store.fhir_user(user.id.as_str())?;
            known_context(smart, &req.scope, fhir_user.as_deref(), user.id.as_str())
                .patient
                .ok_or_else(|| OAuthError::invalid_request(NOTHING_TO_CHOOSE))?
        }
    };
    let param = match pick {
        Pick::Patient => "name",
        Pick::Encounter => "patient",
    };
    let url = picker::search_url(&smart.aud, pick.resource_type(), &[(param, value.as_str())]);
    let (token, jti) = system_token(p, &smart.aud, pick)?;
    let encounter_patient = (pick == Pick::Encounter).then_some(value.as_str());
    let event = |outcome| {
        let e = AuditEvent::new(
            p.now,
            format!("user:{}", user.id),
            "smart.picker.search",
            outcome,
        )
        .subject(user.id.as_str())
        .client(&req.client_id)
        .detail("tenant", req.tenant.clone().unwrap_or_default())
        .detail("aud", smart.aud.as_str())
        .detail("resource_type", pick.resource_type())
        .detail("token_jti", jti.as_str());
        match encounter_patient {
            Some(patient) => e.detail("patient", patient),
            None => e,
        }
    };
    // Between store calls: no transaction is open while the server answers.
    let answer = fhir.get(&url, &token).and_then(|v| {
        picker::candidates(pick, &v).map_err(|_| FetchError::Invalid("is not a searchset Bundle"))
    });
    let list = match answer {
        Ok(list) => list,
        Err(e) => {
            tracing::warn!(aud = %smart.aud, error = %e, "a picker's FHIR search failed");
            p.store
                .audit(event(Outcome::Failure).reason(reason_of(&e)))?;
            return Ok(Searched::Unavailable(message_of(&e)));
        }
    };
    let offered = Picked {
        offered: list.items.iter().map(|c| c.id.clone()).collect(),
        offered_type: Some(pick),
        ..mine(smart, user)
    };
    let record = event(Outcome::Success).detail("results", list.items.len());
    store(p, found, offered, &record)?;
    Ok(Searched::Found(list))
}

/// `user`'s choices so far (another user's count for nothing).
fn mine(smart: &crate::oidc::smart_launch::SmartRequest, user: &User) -> Picked {
    let mut picked = smart
        .picked
        .by(user.id.as_str())
        .cloned()
        .unwrap_or_default();
    picked.by = Some(user.id.to_string());
    picked
}

fn store(
    p: &Provider,
    found: &Interaction,
    picked: Picked,
    record: &AuditEvent,
) -> Result<(), OAuthError> {
    let mut request = found.request.clone();
    if let Some(smart) = request.smart.as_mut() {
        smart.picked = picked;
    }
    let params = serde_json::to_string(&request).map_err(|_| OAuthError::server_error())?;
    if !p
        .store
        .update_auth_request_audited(&found.id_hash, &params, record)?
    {
        return Err(OAuthError::invalid_request(NOTHING_TO_CHOOSE));
    }
    Ok(())
}

/// Record `user`'s choice of `id`: one the last search offered them for
/// `pick`, else `invalid_request` (a forged or stale form), audited either way.
pub fn choose(
    p: &Provider,
    found: &Interaction,
    user: &User,
    pick: Pick,
    id: &str,
) -> Result<(), OAuthError> {
    let smart = expecting(p, found, user, pick)?;
    let req = &found.request;
    let event = |outcome| {
        AuditEvent::new(
            p.now,
            format!("user:{}", user.id),
            "smart.context.chosen",
            outcome,
        )
        .subject(user.id.as_str())
        .client(&req.client_id)
        .detail("tenant", req.tenant.clone().unwrap_or_default())
        .detail("aud", smart.aud.as_str())
        .detail("resource_type", pick.resource_type())
    };
    let mut picked = mine(smart, user);
    let offered = picked.offered_type == Some(pick) && picked.offered.iter().any(|o| o == id);
    if !is_fhir_id(id) || !offered {
        p.store
            .audit(event(Outcome::Failure).reason("not_offered"))?;
        return Err(OAuthError::invalid_request(
            "Choose one of the results of your search. If the list is gone, search again.",
        ));
    }
    match pick {
        Pick::Patient => picked.patient = Some(id.to_string()),
        Pick::Encounter => picked.encounter = Some(id.to_string()),
    }
    picked.offered.clear();
    picked.offered_type = None;
    let name = pick.as_str();
    store(p, found, picked, &event(Outcome::Success).detail(name, id))
}

/// The access token Ward signs for its own search (RFC 9068): for the FHIR
/// server `aud`, the one `system/` scope, [`TOKEN_SECONDS`] long. Its `sub`
/// and `client_id` are Ward's issuer, which no registered client or user can
/// be. Returns the token and its `jti` (for the audit record).
fn system_token(p: &Provider, aud: &str, pick: Pick) -> Result<(String, String), OAuthError> {
    let jti = secrets::generate(16);
    let iat = p.now_secs();
    let claims = json!({
        "iss": p.issuer,
        "sub": p.issuer,
        "aud": aud,
        "client_id": p.issuer,
        "scope": pick.scope(),
        "jti": jti,
        "iat": iat,
        "exp": iat + TOKEN_SECONDS,
    });
    Ok((super::tokens::sign_access_token(p, &claims)?, jti))
}

fn reason_of(e: &FetchError) -> &'static str {
    match e {
        FetchError::Timeout => "timeout",
        FetchError::Status(_) => "status",
        FetchError::TooLarge => "too_large",
        FetchError::Invalid(_) => "invalid_answer",
        FetchError::Refused(_) | FetchError::Address | FetchError::Transport(_) => "unreachable",
    }
}

fn message_of(e: &FetchError) -> &'static str {
    match e {
        FetchError::Timeout => "The FHIR server did not answer in time. Try again in a moment.",
        FetchError::Status(_) => {
            "The FHIR server answered the search with an error. Try again in a moment; \
             if it keeps happening, tell your administrator."
        }
        FetchError::TooLarge => {
            "The FHIR server sent more than Ward can show. Type more of the name and search again."
        }
        FetchError::Invalid(_) => {
            "The FHIR server's answer could not be read. Try again in a moment; \
             if it keeps happening, tell your administrator."
        }
        FetchError::Refused(_) | FetchError::Address | FetchError::Transport(_) => {
            "Ward could not reach the FHIR server. Try again in a moment; \
             if it keeps happening, tell your administrator."
        }
    }
}

#[cfg(test)]
#[path = "smart_picker_tests.rs"]
mod tests;
