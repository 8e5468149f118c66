//! The FHIR REST surface the example serves: read (`GET [base]/{type}/{id}`),
//! search (`GET [base]/{type}?…`) and create (`POST [base]/{type}`), each
//! behind a bearer token and the SMART scopes it carries. Errors are FHIR
//! OperationOutcomes with the RFC 6750 `WWW-Authenticate` challenge.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::scopes::{self, Compartment, Interaction};
use crate::store::{Store, patient_of};
use crate::token::{Claims, Keys};

pub struct Gateway {
    pub keys: Keys,
    pub store: Store,
}

pub fn routes(cfg: &mut web::ServiceConfig, gateway: Arc<Gateway>) {
    cfg.app_data(web::Data::from(gateway))
        .route("/{type}/{id}", web::get().to(read))
        .route("/{type}", web::get().to(search))
        .route("/{type}", web::post().to(create));
}

async fn read(
    g: web::Data<Gateway>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (resource_type, id) = path.into_inner();
    let claims = match authenticate(&g, &req).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let Some(resource) = g.store.read(&resource_type, &id) else {
        return outcome(StatusCode::NOT_FOUND, "not-found", "no such resource");
    };
    match allowed(&claims, &resource_type, Interaction::Read, &[]) {
        Access::Denied => forbidden(&resource_type),
        Access::Compartment(patient) if patient_of(&resource).as_deref() != Some(&patient) => {
            // Outside the patient's compartment: as if it did not exist, so
            // that an app cannot probe for other patients' records.
            outcome(StatusCode::NOT_FOUND, "not-found", "no such resource")
        }
        _ => HttpResponse::Ok()
            .content_type("application/fhir+json")
            .json(resource),
    }
}

async fn search(g: web::Data<Gateway>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let resource_type = path.into_inner();
    let claims = match authenticate(&g, &req).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let params: Vec<(String, String)> =
        match web::Query::<Vec<(String, String)>>::from_query(req.query_string()) {
            Ok(q) => q.into_inner(),
            Err(_) => {
                return outcome(
                    StatusCode::BAD_REQUEST,
                    "invalid",
                    "the query cannot be read",
                );
            }
        };
    // patient/ scopes confine the search to the patient in context.
    let confined_to = match allowed(&claims, &resource_type, Interaction::Search, &params) {
        Access::Denied => return forbidden(&resource_type),
        Access::Compartment(patient) => Some(patient),
        Access::Any => None,
    };
    if let Some(patient) = &confined_to {
        // A search for another patient is refused, not quietly emptied
        // (SMART: the app asked for what it may not have).
        let named = params
            .iter()
            .find(|(k, _)| k == "patient" || k == "subject");
        if let Some((_, v)) = named
            && v.strip_prefix("Patient/").unwrap_or(v) != patient
        {
            return outcome(
                StatusCode::FORBIDDEN,
                "forbidden",
                "outside the patient in context",
            );
        }
    }
    let mut results = match g.store.search(&resource_type, &params) {
        Ok(r) => r,
        Err(e) => return outcome(StatusCode::BAD_REQUEST, "not-supported", &e.to_string()),
    };
    if let Some(patient) = &confined_to {
        results.retain(|r| patient_of(r).as_deref() == Some(patient.as_str()));
    }
    results.truncate(100);
    HttpResponse::Ok()
        .content_type("application/fhir+json")
        .json(json!({
            "resourceType": "Bundle",
            "type": "searchset",
            "total": results.len(),
            "entry": results.into_iter().map(|r| json!({"resource": r})).collect::<Vec<_>>(),
        }))
}

async fn create(
    g: web::Data<Gateway>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> HttpResponse {
    let resource_type = path.into_inner();
    let claims = match authenticate(&g, &req).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let resource = body.into_inner();
    if resource["resourceType"] != resource_type.as_str() {
        return outcome(
            StatusCode::BAD_REQUEST,
            "invalid",
            "resourceType does not match the URL",
        );
    }
    match allowed(&claims, &resource_type, Interaction::Create, &[]) {
        Access::Denied => forbidden(&resource_type),
        Access::Compartment(patient) if patient_of(&resource).as_deref() != Some(&patient) => {
            outcome(
                StatusCode::FORBIDDEN,
                "forbidden",
                "outside the patient in context",
            )
        }
        _ => HttpResponse::Created()
            .content_type("application/fhir+json")
            .json(g.store.create(resource)),
    }
}

/// How far the token's scopes let the request go.
enum Access {
    Denied,
    /// Only within this patient's compartment (`patient/` scopes).
    Compartment(String),
    /// `user/` or `system/` scopes: what the authorization server granted.
    Any,
}

fn allowed(
    claims: &Claims,
    resource_type: &str,
    i: Interaction,
    params: &[(String, String)],
) -> Access {
    let grants = scopes::parse(&claims.scope);
    let permitting = scopes::permitting(&grants, resource_type, i, params);
    if permitting
        .iter()
        .any(|g| g.compartment != Compartment::Patient)
    {
        return Access::Any;
    }
    match (&claims.patient, permitting.is_empty()) {
        (Some(patient), false) => Access::Compartment(patient.clone()),
        // patient/ scopes without a patient in context grant nothing.
        _ => Access::Denied,
    }
}

/// The bearer token's claims, or the 401 to answer. Verifying may fetch
/// Ward's keys, so it runs off the async workers.
async fn authenticate(g: &web::Data<Gateway>, req: &HttpRequest) -> Result<Claims, HttpResponse> {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| challenge("invalid_request", "a bearer token is required"))?
        .to_owned();
    let g = g.clone();
    match web::block(move || g.keys.verify(&token)).await {
        Ok(Ok(claims)) => Ok(claims),
        Ok(Err(e)) => Err(challenge("invalid_token", &e.to_string())),
        Err(_) => Err(outcome(
            StatusCode::SERVICE_UNAVAILABLE,
            "transient",
            "try again",
        )),
    }
}

fn challenge(error: &str, description: &str) -> HttpResponse {
    let mut res = outcome(StatusCode::UNAUTHORIZED, "login", description);
    let value = format!(
        "Bearer error=\"{error}\", error_description=\"{}\"",
        description.replace('"', "'")
    );
    if let Ok(v) = value.parse() {
        res.headers_mut()
            .insert(actix_web::http::header::WWW_AUTHENTICATE, v);
    }
    res
}

fn forbidden(resource_type: &str) -> HttpResponse {
    let mut res = outcome(
        StatusCode::FORBIDDEN,
        "forbidden",
        &format!("the token's scopes do not cover this interaction with {resource_type}"),
    );
    if let Ok(v) = "Bearer error=\"insufficient_scope\"".parse() {
        res.headers_mut()
            .insert(actix_web::http::header::WWW_AUTHENTICATE, v);
    }
    res
}

fn outcome(status: StatusCode, code: &str, text: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/fhir+json")
        .json(json!({
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}],
        }))
}
