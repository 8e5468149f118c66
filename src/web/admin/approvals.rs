//! `/admin/api/approvals`: dual control. Granting `ward-admin` answers 202
//! with a request here; a second administrator approves it (the grant is
//! made then) or either administrator rejects it (docs/admin-api.md).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Actor;
use super::problem::Problem;
use super::roles::AssignmentOut;
use super::run;
use crate::clock::to_rfc3339;
use crate::manage;
use crate::manage::approvals::Approved;
use crate::manage::records::Approval;
use crate::web::WebState;
use crate::web::error::WebError;

/// One request for a second administrator's approval.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalOut {
    pub id: String,
    /// What is asked: `role.grant` or `user.erase`.
    pub kind: String,
    /// The user id the change is about.
    pub subject: String,
    /// For `role.grant`: `role` and `tenant`; for `user.erase`: `reason`.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// `user:<id>` of the administrator who asked.
    pub requested_by: String,
    /// RFC 3339.
    pub requested_at: String,
    pub expires_at: String,
    /// `pending`, `approved`, `rejected` or `expired`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

impl ApprovalOut {
    pub fn of(a: Approval, now: i64) -> Self {
        let status = match (&a.decision, a.expires_at > now) {
            (Some(d), _) => d.clone(),
            (None, true) => "pending".into(),
            (None, false) => "expired".into(),
        };
        Self {
            id: a.id,
            kind: a.kind,
            subject: a.subject,
            details: a.details,
            requested_by: a.requested_by,
            requested_at: to_rfc3339(a.requested_at),
            expires_at: to_rfc3339(a.expires_at),
            status,
            decided_by: a.decided_by,
            decided_at: a.decided_at.map(to_rfc3339),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only requests still waiting (default true).
    pub pending: Option<bool>,
}

#[utoipa::path(
    get, path = "/admin/api/approvals", tag = "roles",
    params(ListQuery),
    responses((status = 200, description = "Requests, newest first (at most 200)", body = Vec<ApprovalOut>))
)]
pub async fn list(
    state: web::Data<WebState>,
    _actor: Actor,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let open_only = q.pending.unwrap_or(true);
    let (list, now) = run(&state, move |ctx| {
        Ok((manage::approvals::list(ctx, open_only)?, ctx.clock.now_ms()))
    })
    .await?;
    let out: Vec<_> = list.into_iter().map(|a| ApprovalOut::of(a, now)).collect();
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(
    post, path = "/admin/api/approvals/{id}/approve", tag = "roles",
    params(("id" = String, Path, description = "Approval request id")),
    responses(
        (status = 200, description = "Approved: the grant is made (`role.grant`: the assignment), or the user is erased (`user.erase`: `user_id`, `erased_at`, `sessions`, `grants`, `notifications`)", body = AssignmentOut),
        (status = 403, description = "The requester cannot approve their own request", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided, or expired", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn approve(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (who, id) = (actor.audit_name(), id.into_inner());
    let done = run(&state, move |ctx| {
        manage::approvals::approve_request(ctx, &who, &id)
    })
    .await?;
    Ok(match done {
        Approved::Grant(a) => HttpResponse::Ok().json(AssignmentOut::from(a)),
        Approved::Erasure(e) => HttpResponse::Ok().json(e),
    })
}

#[utoipa::path(
    post, path = "/admin/api/approvals/{id}/reject", tag = "roles",
    params(("id" = String, Path, description = "Approval request id")),
    responses(
        (status = 200, description = "Rejected", body = ApprovalOut),
        (status = 404, description = "No such request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided, or expired", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reject(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (who, id) = (actor.audit_name(), id.into_inner());
    let (done, now) = run(&state, move |ctx| {
        Ok((
            manage::approvals::reject(ctx, &who, &id)?,
            ctx.clock.now_ms(),
        ))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ApprovalOut::of(done, now)))
}
