//! `/admin/api/break-glass`: the review list of emergency elevations, and an
//! auditor's sign-off (`break-glass:review` on the `ward` domain).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Actor;
use super::problem::Problem;
use super::{page_limit, run};
use crate::clock::to_rfc3339;
use crate::manage;
use crate::manage::records::Elevation;
use crate::web::WebState;
use crate::web::error::WebError;

/// One break-glass elevation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ElevationOut {
    pub id: String,
    pub user_id: String,
    pub tenant: String,
    pub reason: String,
    /// RFC 3339.
    pub started_at: String,
    pub expires_at: String,
    /// Absent while the elevation awaits review.
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    pub review_note: Option<String>,
}

impl From<Elevation> for ElevationOut {
    fn from(e: Elevation) -> Self {
        Self {
            id: e.id,
            user_id: e.user_id,
            tenant: e.tenant,
            reason: e.reason,
            started_at: to_rfc3339(e.started_at),
            expires_at: to_rfc3339(e.expires_at),
            reviewed_by: e.reviewed_by,
            reviewed_at: e.reviewed_at.map(to_rfc3339),
            review_note: e.review_note,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only elevations not yet signed off (default true).
    pub pending: Option<bool>,
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// What the auditor found (at most 1,000 characters).
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(
    get, path = "/admin/api/break-glass", tag = "break-glass",
    params(ListQuery),
    responses((status = 200, description = "Elevations, newest first", body = Vec<ElevationOut>))
)]
pub async fn list(
    state: web::Data<WebState>,
    actor: Actor,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let (who, pending, limit) = (
        actor.audit_name(),
        q.pending.unwrap_or(true),
        page_limit(q.limit)?,
    );
    let list = run(&state, move |ctx| {
        manage::break_glass::list(ctx, &who, pending, limit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list.into_iter().map(ElevationOut::from).collect::<Vec<_>>()))
}

#[utoipa::path(
    post, path = "/admin/api/break-glass/{id}/review", tag = "break-glass",
    params(("id" = String, Path, description = "Elevation id")),
    request_body = Review,
    responses(
        (status = 200, description = "Signed off", body = ElevationOut),
        (status = 404, description = "No such elevation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already reviewed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn review(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
    body: web::Json<Review>,
) -> Result<HttpResponse, WebError> {
    let (who, reviewer, id, note) = (
        actor.audit_name(),
        actor.user_id.clone(),
        id.into_inner(),
        body.into_inner().note,
    );
    let e = run(&state, move |ctx| {
        manage::break_glass::sign_off(ctx, &who, &reviewer, &id, &note)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ElevationOut::from(e)))
}
