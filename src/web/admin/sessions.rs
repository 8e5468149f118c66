//! `/admin/api/users/{id}/sessions`: a user's browser sessions; end one or all.
//! A session is named by its `sid`, the value in the user's ID tokens.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Actor;
use super::{page_limit, run};
use crate::domain::Acr;
use crate::manage;
use crate::manage::sessions::SessionInfo;
use crate::web::WebState;
use crate::web::error::WebError;

/// One browser session. Times are Unix milliseconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    /// As in the user's ID tokens (`sid`).
    pub sid: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    /// When the user last proved a factor.
    pub auth_time: i64,
    #[schema(value_type = String)]
    pub acr: Acr,
    pub amr: Vec<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub ended_at: Option<i64>,
    /// When each factor was proven, by amr value (Unix milliseconds).
    #[schema(value_type = Object)]
    pub factor_times: std::collections::BTreeMap<String, i64>,
    /// Started on, or used by, a shared workstation (a shorter idle timeout).
    pub shared_workstation: bool,
    /// Usable now: not ended, within its idle and absolute timeouts.
    pub live: bool,
}

impl From<SessionInfo> for SessionOut {
    fn from(s: SessionInfo) -> Self {
        Self {
            sid: s.sid,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            auth_time: s.auth_time,
            acr: s.acr,
            amr: s.amr.iter().map(ToString::to_string).collect(),
            ip: s.ip,
            user_agent: s.user_agent,
            ended_at: s.ended_at,
            factor_times: s
                .factor_times
                .into_iter()
                .map(|(amr, at)| (amr.to_string(), at))
                .collect(),
            shared_workstation: s.shared_workstation,
            live: s.live,
        }
    }
}

/// A page of a user's sessions, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionPage {
    pub user_id: String,
    pub sessions: Vec<SessionOut>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListSessions {
    /// The previous page's `next`.
    pub after: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<i64>,
}

/// The sessions ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ended {
    pub ended: Vec<String>,
}

#[utoipa::path(
    get, path = "/admin/api/users/{id}/sessions", tag = "sessions",
    params(("id" = String, Path, description = "User id (or username)"), ListSessions),
    responses(
        (status = 200, description = "Sessions, newest first", body = SessionPage),
        (status = 404, description = "No such user"),
        (status = 422, description = "A bad `after` or `limit`"),
    )
)]
pub async fn list(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
    q: web::Query<ListSessions>,
) -> Result<HttpResponse, WebError> {
    let limit = page_limit(q.limit)?;
    let (who, id, after) = (actor.audit_name(), id.into_inner(), q.into_inner().after);
    let page = run(&state, move |ctx| {
        manage::sessions::list(ctx, &who, &id, after.as_deref(), limit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(SessionPage {
        user_id: page.user_id,
        sessions: page.sessions.into_iter().map(SessionOut::from).collect(),
        next: page.next,
    }))
}

#[utoipa::path(
    delete, path = "/admin/api/users/{id}/sessions", tag = "sessions",
    params(("id" = String, Path, description = "User id (or username)")),
    responses(
        (status = 200, description = "Every open session ended; the `sid`s", body = Ended),
        (status = 404, description = "No such user"),
    )
)]
pub async fn end_all(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (who, id) = (actor.audit_name(), id.into_inner());
    let ended = run(&state, move |ctx| manage::sessions::end_all(ctx, &who, &id)).await?;
    Ok(HttpResponse::Ok().json(Ended { ended }))
}

#[utoipa::path(
    delete, path = "/admin/api/users/{id}/sessions/{sid}", tag = "sessions",
    params(
        ("id" = String, Path, description = "User id (or username)"),
        ("sid" = String, Path, description = "The session's `sid`"),
    ),
    responses(
        (status = 204, description = "Ended"),
        (status = 404, description = "No such user or session"),
        (status = 409, description = "The session had already ended"),
    )
)]
pub async fn end(
    state: web::Data<WebState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (id, sid) = path.into_inner();
    let who = actor.audit_name();
    run(&state, move |ctx| {
        manage::sessions::end(ctx, &who, &id, &sid)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
