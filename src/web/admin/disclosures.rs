//! `/admin/api/users/{id}/disclosures`: a user's accounting of disclosures
//! (docs/privacy.md), newest first, as JSON or, for a records request, as
//! RFC 4180 CSV (`Accept: text/csv` or `?format=csv`). The same operation
//! as `ward user disclosures`; every read is audited (`disclosure.list`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Actor;
use super::run;
use crate::domain::disclosure::Disclosure;
use crate::manage;
use crate::manage::disclosures::PageQuery;
use crate::web::WebState;
use crate::web::error::WebError;

/// One disclosure: what a client received about the user. Times are Unix ms.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisclosureOut {
    pub id: String,
    pub disclosed_at: i64,
    /// `id_token` (a token response with an ID token and its access token),
    /// `access_token`, `userinfo` or `introspection`.
    pub kind: String,
    /// Who received it (for introspection, the client that asked).
    pub client_id: String,
    /// The `sub` that client saw (pairwise where it is registered so).
    pub sub: String,
    /// Names of the claims about the user; never their values.
    pub claims: Vec<String>,
    pub scopes: Vec<String>,
    /// The consent record in force, if any.
    pub consent_id: Option<String>,
    pub tenant: Option<String>,
}

impl From<Disclosure> for DisclosureOut {
    fn from(d: Disclosure) -> Self {
        Self {
            id: d.id,
            disclosed_at: d.disclosed_at,
            kind: d.kind.as_str().to_string(),
            client_id: d.client_id.to_string(),
            sub: d.sub,
            claims: d.claims,
            scopes: d.scopes,
            consent_id: d.consent_id,
            tenant: d.tenant,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DisclosureList {
    pub user_id: String,
    pub disclosures: Vec<DisclosureOut>,
    /// `before` of the next (older) page; absent on the last one.
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListDisclosures {
    /// 1 to 1000 (default 100).
    pub limit: Option<i64>,
    /// Older than this: a page's `next`, or a time in Unix ms.
    pub before: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

#[utoipa::path(
    get, path = "/admin/api/users/{id}/disclosures", tag = "disclosures",
    params(("id" = String, Path, description = "User id (or username)"), ListDisclosures),
    responses(
        (status = 200, description = "A page, newest first (JSON, or CSV with `Accept: text/csv` or `format=csv`)", body = DisclosureList),
        (status = 404, description = "No such user"),
        (status = 422, description = "A bad `limit`, `before` or `format`"),
    )
)]
pub async fn list(
    state: web::Data<WebState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<String>,
    q: web::Query<ListDisclosures>,
) -> Result<HttpResponse, WebError> {
    let csv = wants_csv(&req, q.format.as_deref())?;
    let (who, id) = (actor.audit_name(), id.into_inner());
    let query = PageQuery {
        before: q.before.clone(),
        limit: q.limit,
    };
    let (user, page) = run(&state, move |ctx| {
        manage::disclosures::list(ctx, &who, &id, &query)
    })
    .await?;
    if csv {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8; header=present")
            .body(manage::disclosures::csv(&page.disclosures)));
    }
    Ok(HttpResponse::Ok().json(DisclosureList {
        user_id: user.id.to_string(),
        disclosures: page.disclosures.into_iter().map(Into::into).collect(),
        next: page.next,
    }))
}

/// CSV when `format=csv`, or when no format is named and the `Accept`
/// header names `text/csv`; any other format is refused.
fn wants_csv(req: &HttpRequest, format: Option<&str>) -> Result<bool, WebError> {
    match format {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(WebError::invalid_value(
            "format",
            "format: must be json or csv",
        )),
        None => Ok(req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.to_ascii_lowercase().contains("text/csv"))),
    }
}

#[utoipa::path(
    get, path = "/admin/api/users/{id}/export", tag = "disclosures",
    params(("id" = String, Path, description = "User id (or username)")),
    responses(
        (status = 200, description = "The user's data as one JSON document (docs/privacy.md, \"Export\"): profile, roles per tenant, factors (metadata only), sessions, consents, disclosures and the audit records about them. Audited as `user.exported`."),
        (status = 404, description = "No such user"),
    )
)]
pub async fn export(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (who, id) = (actor.audit_name(), id.into_inner());
    let doc = run(&state, move |ctx| manage::export::export(ctx, &who, &id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"ward-export.json\"",
        ))
        .json(doc))
}
