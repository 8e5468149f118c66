//! `/admin/api/users/{id}/erase` and `/admin/api/users/{id}/legal-hold`:
//! erasure by crypto-shredding, under a second administrator's approval,
//! and legal holds (docs/privacy.md, docs/admin-api.md).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::approvals::ApprovalOut;
use super::auth::Actor;
use super::problem::Problem;
use super::run;
use crate::clock::to_rfc3339;
use crate::manage;
use crate::web::WebState;
use crate::web::error::WebError;

/// Why: kept in the erasure record and the audit trail (do not name the person).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub reason: String,
}

/// A legal hold: erasure is refused while it is in place.
#[derive(Debug, Serialize, ToSchema)]
pub struct LegalHoldOut {
    pub user_id: String,
    pub reason: String,
    /// `user:<id>` or `cli:<name>` of who placed it.
    pub placed_by: String,
    /// RFC 3339.
    pub placed_at: String,
}

#[utoipa::path(
    post, path = "/admin/api/users/{id}/erase", tag = "users", request_body = Reason,
    params(("id" = String, Path, description = "User id (or username)")),
    responses(
        (status = 202, description = "A request a second administrator approves (/admin/api/approvals); the erasure runs then", body = ApprovalOut),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The user is under a legal hold", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The reason is missing or too long", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn erase(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
    body: web::Json<Reason>,
) -> Result<HttpResponse, WebError> {
    let (who, id, reason) = (
        actor.audit_name(),
        id.into_inner(),
        body.into_inner().reason,
    );
    let (asked, now) = run(&state, move |ctx| {
        let asked = manage::erasure::request(ctx, &who, &id, &reason)?;
        Ok((asked, ctx.clock.now_ms()))
    })
    .await?;
    Ok(HttpResponse::Accepted().json(ApprovalOut::of(asked, now)))
}

#[utoipa::path(
    put, path = "/admin/api/users/{id}/legal-hold", tag = "users", request_body = Reason,
    params(("id" = String, Path, description = "User id (or username)")),
    responses(
        (status = 201, description = "Placed", body = LegalHoldOut),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already under a legal hold", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn hold(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
    body: web::Json<Reason>,
) -> Result<HttpResponse, WebError> {
    let (who, id, reason) = (
        actor.audit_name(),
        id.into_inner(),
        body.into_inner().reason,
    );
    let h = run(&state, move |ctx| {
        manage::erasure::hold(ctx, &who, &id, &reason)
    })
    .await?;
    Ok(HttpResponse::Created().json(LegalHoldOut {
        user_id: h.user_id,
        reason: h.reason,
        placed_by: h.placed_by,
        placed_at: to_rfc3339(h.placed_at),
    }))
}

#[utoipa::path(
    delete, path = "/admin/api/users/{id}/legal-hold", tag = "users",
    params(("id" = String, Path, description = "User id (or username)")),
    responses(
        (status = 204, description = "Released"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not under a legal hold", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn release(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (who, id) = (actor.audit_name(), id.into_inner());
    run(&state, move |ctx| manage::erasure::release(ctx, &who, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
