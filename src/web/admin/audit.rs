//! `/admin/api/audit`: query the audit trail. The query is itself recorded
//! (`audit.read`), so reading the trail leaves a trace in it.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Actor;
use super::{page_limit, run};
use crate::audit::AuditRecord;
use crate::manage;
use crate::manage::audit_log::AuditQuery;
use crate::web::WebState;
use crate::web::error::WebError;

/// One audit record (docs/audit.md). `seq`, `prev_hash` and `hash` are set
/// once the record is chained (within a second or two).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRecordOut {
    pub id: i64,
    /// Unix milliseconds.
    pub recorded_at: i64,
    /// Who acted: `user:<id>`, `cli:<name>`, `client:<id>`, `system`.
    pub actor: String,
    pub subject_user: Option<String>,
    pub client_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub event_type: String,
    /// `success` or `failure`.
    pub outcome: String,
    pub reason: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub seq: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

impl From<AuditRecord> for AuditRecordOut {
    fn from(r: AuditRecord) -> Self {
        Self {
            // Stored as canonical JSON text; an object for API clients.
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
            id: r.id,
            recorded_at: r.recorded_at,
            actor: r.actor,
            subject_user: r.subject_user,
            client_id: r.client_id,
            ip: r.ip,
            user_agent: r.user_agent,
            event_type: r.event_type,
            outcome: r.outcome,
            reason: r.reason,
            seq: r.seq,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub records: Vec<AuditRecordOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only this event type, e.g. `user.disable`.
    pub event_type: Option<String>,
    /// Only records about this user id.
    pub subject: Option<String>,
    /// Records after this id, oldest first (to follow the trail); without it,
    /// the newest records, newest first.
    pub after_id: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<i64>,
}

#[utoipa::path(
    get, path = "/admin/api/audit", tag = "audit", params(AuditParams),
    responses(
        (status = 200, description = "Matching records", body = AuditPage),
        (status = 422, description = "A filter is not an event type or user id"),
    )
)]
pub async fn query(
    state: web::Data<WebState>,
    actor: Actor,
    q: web::Query<AuditParams>,
) -> Result<HttpResponse, WebError> {
    let limit = page_limit(q.limit)?;
    let q = q.into_inner();
    let query = AuditQuery {
        event_type: q.event_type.filter(|s| !s.is_empty()),
        subject: q.subject.filter(|s| !s.is_empty()),
        after_id: q.after_id,
        limit,
    };
    let who = actor.audit_name();
    let records = run(&state, move |ctx| {
        manage::audit_log::query(ctx, &who, &query)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AuditPage {
        records: records.into_iter().map(AuditRecordOut::from).collect(),
    }))
}
