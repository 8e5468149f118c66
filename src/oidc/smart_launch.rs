//! SMART App Launch 2.2.0 in the protocol: `aud` and the `launch` parameter
//! at `/authorize` (and PAR), the launch context a code carries, and the
//! EHR's `POST /smart/launch` (docs/smart.md).
//!
//! - A request with a SMART scope must name the FHIR server in `aud`, exactly
//!   a registered base URL (§"Authorization request": the server SHALL
//!   reject an unknown `aud`). The server's tenant becomes the request's
//!   tenant: the user signs in to that organisation and no other.
//! - `launch` with the `launch` scope restores an EHR launch: bound to the
//!   app and the tenant, used once, within its lifetime.
//! - At issue, the context is fixed: the EHR's patient, or for `launch/patient`
//!   and `patient/` scopes the signed-in user's own Patient; the user the EHR
//!   named must be the one signed in.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Provider;
use super::authorize::AuthorizationRequest;
use super::error::OAuthError;
use super::params::Params;
use crate::audit::{AuditEvent, Outcome};
use crate::crypto::secrets;
use crate::domain::ClientId;
use crate::domain::records::Client;
use crate::smart::launch::{
    LaunchBinding, LaunchRefusal, check_binding, parse_fhir_context, patient_of,
};
use crate::smart::{Compartment, LaunchContext, Scope, SmartGrant, scope};
use crate::store::{FhirServer, LaunchRow};

/// What a SMART authorization request carries past validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmartRequest {
    /// The FHIR server's base URL: the access token's `aud`.
    pub aud: String,
    /// The EHR launch's context, when the request presented a `launch`.
    #[serde(default)]
    pub launch: Option<LaunchContext>,
    /// The user the EHR named for the launch: the only one who may sign in.
    #[serde(default)]
    pub ehr_user: Option<String>,
    /// A standalone launch's choices on the picker pages.
    #[serde(default)]
    pub picked: Picked,
}

/// What the user chose on the picker pages (`oidc::smart_picker`), and what
/// the last search offered: only an offered id may be chosen, so a posted id
/// is never taken on trust. Kept with the pending request, server-side; the
/// choices count only for the user who made them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Picked {
    /// The user who searched and chose.
    #[serde(default)]
    pub by: Option<String>,
    #[serde(default)]
    pub patient: Option<String>,
    #[serde(default)]
    pub encounter: Option<String>,
    /// The ids the last search returned, and of which type.
    #[serde(default)]
    pub offered: Vec<String>,
    #[serde(default)]
    pub offered_type: Option<crate::smart::picker::Pick>,
}

impl Picked {
    /// The choices, when `user_id` made them.
    pub fn by(&self, user_id: &str) -> Option<&Picked> {
        (self.by.as_deref() == Some(user_id)).then_some(self)
    }
}

/// Whether `token` is a scope that makes a request SMART: a `patient/` or
/// `user/` scope, `launch`, `launch/patient`, `launch/encounter` or `fhirUser`.
pub fn is_smart_scope(token: &str) -> bool {
    match scope::parse(token) {
        Ok(Scope::Clinical(c)) => c.compartment != Compartment::System,
        Ok(Scope::Launch | Scope::LaunchPatient | Scope::LaunchEncounter | Scope::FhirUser) => true,
        _ => false,
    }
}

fn has(scope: &[String], name: &str) -> bool {
    scope.iter().any(|s| s == name)
}

/// `aud` and `launch` of an authorization request (run after every other
/// check, so that a request refused for another reason does not use up its
/// launch). Errors are `invalid_request`, sent to the redirect URI.
pub fn check_request(
    p: &Provider,
    params: &Params,
    client: &Client,
    req: &mut AuthorizationRequest,
) -> Result<(), OAuthError> {
    let launch = params.get("launch")?;
    let Some(aud) = params.get("aud")? else {
        if req.scope.iter().any(|s| is_smart_scope(s)) || launch.is_some() {
            return Err(OAuthError::invalid_request(
                "aud is required with SMART scopes: the base URL of the FHIR server \
                 (SMART App Launch 2.2.0)",
            ));
        }
        return Ok(());
    };
    let server = p.store.fhir_server(aud)?.ok_or_else(|| {
        OAuthError::invalid_request(
            "aud is not the base URL of a FHIR server registered with Ward (compared exactly)",
        )
    })?;
    if req.tenant.as_deref().is_some_and(|t| t != server.tenant) {
        return Err(OAuthError::invalid_request(
            "tenant names another organisation than the FHIR server's in aud",
        ));
    }
    req.tenant = Some(server.tenant.clone());
    let row = match (launch, has(&req.scope, "launch")) {
        (Some(value), true) => Some(use_launch(p, client, &server, value)?),
        (Some(_), false) => {
            return Err(OAuthError::invalid_request(
                "the launch parameter needs the launch scope",
            ));
        }
        (None, true) => {
            return Err(OAuthError::invalid_request(
                "the launch scope needs the launch parameter of an EHR launch; \
                 a standalone launch asks for launch/patient instead",
            ));
        }
        (None, false) => None,
    };
    req.smart = Some(SmartRequest {
        aud: server.base_url,
        ehr_user: row.as_ref().and_then(|r| r.user_id.clone()),
        launch: row.map(|r| r.context),
        picked: Picked::default(),
    });
    Ok(())
}

/// Check a presented launch against the app and the tenant, then use it up
/// (once: of two concurrent uses one fails), audited either way.
fn use_launch(
    p: &Provider,
    client: &Client,
    server: &FhirServer,
    value: &str,
) -> Result<LaunchRow, OAuthError> {
    let hash = secrets::hash(value);
    let event = |outcome| {
        AuditEvent::new(
            p.now,
            format!("client:{}", client.id),
            "smart.launch_used",
            outcome,
        )
        .client(&client.id)
        .detail("aud", server.base_url.as_str())
        .detail("tenant", server.tenant.as_str())
    };
    let refuse = |why: LaunchRefusal| -> Result<LaunchRow, OAuthError> {
        p.store.audit(event(Outcome::Failure).reason(why.code()))?;
        Err(OAuthError::invalid_request(why.description()))
    };
    let Some(row) = p.store.launch(&hash)? else {
        return refuse(LaunchRefusal::Unknown);
    };
    let binding = LaunchBinding {
        tenant: &row.tenant,
        client_id: &row.client_id,
        expires_at: row.expires_at,
        used: row.used_at.is_some(),
    };
    if let Err(why) = check_binding(&binding, &client.id, &server.tenant, p.now) {
        return refuse(why);
    }
    let mut used = event(Outcome::Success)
        .detail("ehr_client", row.ehr_client_id.as_str())
        .detail("patient", row.context.patient.clone().unwrap_or_default());
    if let Some(u) = &row.user_id {
        used = used.subject(u);
    }
    if !p.store.use_launch(&hash, p.now, &used)? {
        // A concurrent request used it first (or it expired meanwhile).
        return refuse(LaunchRefusal::Used);
    }
    Ok(row)
}

/// The SMART context a code for `user_id` carries, decided when the code is
/// issued: None for a request without `aud`. Refused with `access_denied`
/// when the EHR named another user, or when the request needs a patient
/// (`launch/patient`, a `patient/` scope) or an encounter and none is in
/// context: not from the EHR, not the user's own record, not chosen on the
/// picker (`oidc::smart_picker`, which runs before consent and refuses
/// earlier, with the reason; this is the last word).
pub fn grant_context(
    p: &Provider,
    req: &AuthorizationRequest,
    user_id: &str,
) -> Result<Option<SmartGrant>, OAuthError> {
    let Some(smart) = &req.smart else {
        return Ok(None);
    };
    if smart.ehr_user.as_deref().is_some_and(|u| u != user_id) {
        return Err(OAuthError::access_denied(
            "the EHR launched this app for another user; sign in as that user",
        ));
    }
    let fhir_user = p.store.fhir_user(user_id)?;
    let known = known_context(smart, &req.scope, fhir_user.as_deref(), user_id);
    let mut context = smart.launch.clone().unwrap_or_default();
    if wants_patient(&req.scope) {
        context.patient = known.patient;
        if context.patient.is_none() {
            return Err(OAuthError::access_denied(NO_PATIENT));
        }
    }
    if has(&req.scope, "launch/encounter") {
        context.encounter = known.encounter;
        if context.encounter.is_none() {
            return Err(OAuthError::access_denied(NO_ENCOUNTER));
        }
    }
    Ok(Some(SmartGrant {
        aud: smart.aud.clone(),
        context,
        fhir_user: fhir_user.filter(|_| has(&req.scope, "fhirUser")),
    }))
}

pub(crate) const NO_PATIENT: &str = "no patient in context: launch/patient and patient/ scopes \
     need an EHR launch with a patient, a user whose FHIR user is a Patient, or a patient \
     chosen on Ward's patient picker (which needs permission to search patients)";
pub(crate) const NO_ENCOUNTER: &str = "no encounter in context: launch/encounter needs an EHR \
     launch with an encounter, or an encounter chosen on Ward's picker for the patient in \
     context (which needs permission to search encounters)";

/// Whether a request asks for a patient in context: `launch/patient`, or a
/// `patient/` scope (whose compartment is that patient).
pub fn wants_patient(scope: &[String]) -> bool {
    has(scope, "launch/patient")
        || scope.iter().any(|s| {
            matches!(scope::parse(s), Ok(Scope::Clinical(c)) if c.compartment == Compartment::Patient)
        })
}

/// The patient and encounter a request has in context so far, in order of
/// precedence: the EHR launch's; for a request that wants a patient, the
/// user's own Patient resource (SMART 2.2.0 §"Standalone launch"); what
/// `user_id` chose on the picker. The patient is also the one whose
/// encounters the encounter picker lists.
pub(crate) fn known_context(
    smart: &SmartRequest,
    scope: &[String],
    fhir_user: Option<&str>,
    user_id: &str,
) -> LaunchContext {
    let ehr = smart.launch.clone().unwrap_or_default();
    let picked = smart.picked.by(user_id);
    let own = fhir_user.and_then(patient_of).map(str::to_string);
    LaunchContext {
        patient: ehr
            .patient
            .or(own)
            .or_else(|| picked.and_then(|c| c.patient.clone()))
            .filter(|_| wants_patient(scope) || has(scope, "launch/encounter")),
        encounter: ehr
            .encounter
            .or_else(|| picked.and_then(|c| c.encounter.clone())),
        ..LaunchContext::default()
    }
}

/// The launch parameters of `POST /smart/launch`, checked.
fn launch_context(params: &Params) -> Result<LaunchContext, OAuthError> {
    let text = |name: &str| params.get(name).map(|v| v.map(str::to_string));
    let need_patient_banner = match params.get("need_patient_banner")? {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(OAuthError::invalid_request(
                "need_patient_banner must be true or false",
            ));
        }
    };
    let fhir_context = match params.get("fhirContext")? {
        Some(t) => parse_fhir_context(t).map_err(OAuthError::invalid_request)?,
        None => Vec::new(),
    };
    let context = LaunchContext {
        patient: text("patient")?,
        encounter: text("encounter")?,
        fhir_context,
        intent: text("intent")?,
        need_patient_banner,
        smart_style_url: text("smart_style_url")?,
    };
    context.check().map_err(OAuthError::invalid_request)?;
    Ok(context)
}

/// The user an EHR names (`user`: a user id or a username).
fn ehr_user(p: &Provider, ident: &str) -> Result<String, OAuthError> {
    let found = match crate::domain::UserId::parse(ident) {
        Some(id) => p.store.user(id.as_str())?,
        None => match crate::domain::Username::parse(ident) {
            Ok(name) => p.store.user_by_username(name.as_str())?,
            Err(_) => None,
        },
    };
    found
        .map(|u| u.id.to_string())
        .ok_or_else(|| OAuthError::invalid_request("user is not a Ward user"))
}

/// `POST /smart/launch` by an authenticated EHR client allowed `smart`
/// `launch` in `tenant` (its Casbin subject `client:<id>`): a single-use
/// launch value for the app, bound to the tenant, the app and the user.
pub fn mint(p: &Provider, ehr: &Client, params: &Params) -> Result<Value, OAuthError> {
    if let Some(name) = params.first_repeated() {
        return Err(OAuthError::invalid_request(format!(
            "parameter `{name}` is repeated"
        )));
    }
    let tenant = params.require("tenant")?;
    crate::authz::rules::check_name(tenant)
        .map_err(|e| OAuthError::invalid_request(format!("tenant: {e}")))?;
    let subject = crate::authz::client_subject(&ehr.id);
    if !p.policy.allowed(&subject, tenant, "smart", "launch") {
        let refused = AuditEvent::new(p.now, &subject, "smart.launch_minted", Outcome::Failure)
            .client(&ehr.id)
            .reason("not_permitted")
            .detail("tenant", tenant);
        p.store.audit(refused)?;
        return Err(OAuthError::unauthorized_client(
            "this client may not launch apps in this tenant (it needs smart launch there)",
        ));
    }
    let not_an_app = || {
        OAuthError::invalid_request("app_client_id is not a client registered for the launch scope")
    };
    let app_id = ClientId::exact(params.require("app_client_id")?).ok_or_else(not_an_app)?;
    let app = p
        .store
        .client(&app_id)?
        .filter(|a| has(&a.scopes, "launch"))
        .ok_or_else(not_an_app)?;
    let context = launch_context(params)?;
    let user_id = params.get("user")?.map(|u| ehr_user(p, u)).transpose()?;
    let value = secrets::generate(32);
    let ttl = i64::from(p.tokens.smart_launch_seconds);
    let row = LaunchRow {
        launch_hash: secrets::hash(&value),
        tenant: tenant.to_string(),
        client_id: app.id.clone(),
        ehr_client_id: ehr.id.clone(),
        user_id,
        context,
        created_at: p.now,
        expires_at: p.now + ttl * 1000,
        used_at: None,
    };
    let mut minted = AuditEvent::new(p.now, &subject, "smart.launch_minted", Outcome::Success)
        .client(&app.id)
        .detail("ehr_client", ehr.id.as_str())
        .detail("tenant", tenant)
        .detail("patient", row.context.patient.clone().unwrap_or_default())
        .detail(
            "encounter",
            row.context.encounter.clone().unwrap_or_default(),
        );
    if let Some(u) = &row.user_id {
        minted = minted.subject(u);
    }
    p.store.create_launch(&row, &minted)?;
    Ok(json!({ "launch": value, "expires_in": ttl }))
}

/// The access token's extra claims: the roles and permissions (`authz`),
/// and for a SMART grant the FHIR server as `aud` (SMART 2.2.0: the token is
/// for that server), `patient`, `encounter`, `fhirContext` and, with the
/// `fhirUser` scope, `fhirUser`, so that the FHIR server (or introspection)
/// reads the context from the token.
pub fn access_token_claims(
    smart: Option<&SmartGrant>,
    scope: &[String],
    authz: Option<&Value>,
) -> Option<Value> {
    let Some(s) = smart else {
        return authz.cloned();
    };
    let mut out = authz.cloned().unwrap_or_else(|| json!({}));
    out["aud"] = json!(s.aud);
    if let Some(p) = &s.context.patient {
        out["patient"] = json!(p);
    }
    if let Some(e) = &s.context.encounter {
        out["encounter"] = json!(e);
    }
    if !s.context.fhir_context.is_empty() {
        out["fhirContext"] = json!(s.context.fhir_context);
    }
    if let Some(url) = fhir_user_claim(smart, scope) {
        out["fhirUser"] = json!(url);
    }
    Some(out)
}

/// The `fhirUser` claim (an absolute URL) when `scope` holds `fhirUser` and
/// the user has a FHIR resource.
pub fn fhir_user_claim(smart: Option<&SmartGrant>, scope: &[String]) -> Option<String> {
    smart
        .filter(|_| has(scope, "fhirUser"))
        .and_then(SmartGrant::fhir_user_url)
}

#[cfg(test)]
#[path = "smart_launch_tests.rs"]
mod tests;
