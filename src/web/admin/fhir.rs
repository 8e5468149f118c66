//! `/admin/api/fhir-servers`: the FHIR servers SMART apps get tokens for,
//! with the same rules as `ward fhir` (docs/smart.md); and a user's FHIR
//! resource, as `ward user set --fhir-user` sets it.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Actor;
use super::run;
use crate::manage;
use crate::manage::records::FhirServer;
use crate::web::WebState;
use crate::web::error::WebError;

/// A registered FHIR server. Times are Unix milliseconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct FhirServerOut {
    pub id: String,
    /// The only `aud` a SMART app may send for this server, compared exactly.
    pub base_url: String,
    /// The organisation whose users sign in for this server.
    pub tenant: String,
    pub created_at: i64,
}

impl From<&FhirServer> for FhirServerOut {
    fn from(s: &FhirServer) -> Self {
        Self {
            id: s.id.clone(),
            base_url: s.base_url.clone(),
            tenant: s.tenant.clone(),
            created_at: s.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FhirServerList {
    pub fhir_servers: Vec<FhirServerOut>,
}

/// A FHIR server to register: absolute https (http only for a loopback
/// host), no query, fragment or trailing slash.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFhirServer {
    pub base_url: String,
    pub tenant: String,
}

/// A user's FHIR resource: a relative reference such as `Patient/123`, or
/// `null` to clear it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FhirUserChange {
    pub fhir_user: Option<String>,
}

#[utoipa::path(
    get, path = "/admin/api/fhir-servers", tag = "fhir-servers",
    responses((status = 200, description = "Every registered FHIR server", body = FhirServerList))
)]
pub async fn list(state: web::Data<WebState>, actor: Actor) -> Result<HttpResponse, WebError> {
    let who = actor.audit_name();
    let list = run(&state, move |ctx| manage::fhir::list(ctx, &who)).await?;
    Ok(HttpResponse::Ok().json(FhirServerList {
        fhir_servers: list.iter().map(FhirServerOut::from).collect(),
    }))
}

#[utoipa::path(
    post, path = "/admin/api/fhir-servers", tag = "fhir-servers", request_body = NewFhirServer,
    responses(
        (status = 201, description = "Registered", body = FhirServerOut),
        (status = 409, description = "The base URL is registered already"),
        (status = 422, description = "A value is refused"),
    )
)]
pub async fn create(
    state: web::Data<WebState>,
    actor: Actor,
    body: web::Json<NewFhirServer>,
) -> Result<HttpResponse, WebError> {
    let (who, b) = (actor.audit_name(), body.into_inner());
    let s = run(&state, move |ctx| {
        manage::fhir::add(ctx, &who, &b.base_url, &b.tenant)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("{}/fhir-servers/{}", super::PREFIX, s.id),
        ))
        .json(FhirServerOut::from(&s)))
}

#[utoipa::path(
    delete, path = "/admin/api/fhir-servers/{id}", tag = "fhir-servers",
    params(("id" = String, Path, description = "FHIR server id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such FHIR server"),
    )
)]
pub async fn remove(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (who, id) = (actor.audit_name(), id.into_inner());
    run(&state, move |ctx| manage::fhir::remove(ctx, &who, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    put, path = "/admin/api/users/{id}/fhir-user", tag = "users", request_body = FhirUserChange,
    params(("id" = String, Path, description = "User id or username")),
    responses(
        (status = 204, description = "Set (or cleared)"),
        (status = 404, description = "No such user"),
        (status = 422, description = "Not a relative reference to a Patient, Practitioner, \
            PractitionerRole, RelatedPerson or Person"),
    )
)]
pub async fn set_fhir_user(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
    body: web::Json<FhirUserChange>,
) -> Result<HttpResponse, WebError> {
    let (who, id, f) = (
        actor.audit_name(),
        id.into_inner(),
        body.into_inner().fhir_user,
    );
    run(&state, move |ctx| {
        manage::fhir::set_fhir_user(ctx, &who, &id, f.as_deref())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
