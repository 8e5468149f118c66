//! `/admin/api/users/{id}/consents`: a user's consent records; withdraw one
//! (docs/privacy.md). The same operations as `ward user consents` and
//! `ward user withdraw-consent`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Actor;
use super::run;
use crate::domain::consent::ConsentWithdrawn;
use crate::manage;
use crate::manage::records::{ConsentRecord, Withdrawal};
use crate::web::WebState;
use crate::web::error::WebError;

/// One version of a consent. Times are Unix milliseconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentOut {
    /// The record's id, which later records (disclosures) refer to.
    pub id: String,
    pub client_id: String,
    /// 1, 2, …: a new version each time the user consents to this client.
    pub version: i64,
    pub scopes: Vec<String>,
    /// The user claims consented to; absent for a consent remembered before
    /// consent records (then: the claims of its scopes).
    pub claims: Option<Vec<String>>,
    /// The client's purpose text when the consent was given.
    pub purpose: Option<String>,
    pub given_at: i64,
    /// `page` (the person allowed it) or `first_party` (implied by policy).
    pub given_by: String,
    pub policy_version: String,
    pub withdrawn_at: Option<i64>,
    /// `account`, `cli` or `admin_api`.
    pub withdrawn_by: Option<String>,
}

impl From<ConsentRecord> for ConsentOut {
    fn from(c: ConsentRecord) -> Self {
        Self {
            id: c.id,
            client_id: c.client_id.to_string(),
            version: c.version,
            scopes: c.scopes,
            claims: c.claims,
            purpose: c.purpose,
            given_at: c.given_at,
            given_by: c.given_by.as_str().to_string(),
            policy_version: c.policy_version,
            withdrawn_at: c.withdrawn_at,
            withdrawn_by: c.withdrawn_by.map(|w| w.as_str().to_string()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentList {
    pub user_id: String,
    pub consents: Vec<ConsentOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListConsents {
    /// Every version, not only the latest per client.
    #[serde(default)]
    pub history: bool,
}

/// What a withdrawal did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Withdrawn {
    pub consent: ConsentOut,
    /// Grants (with their refresh tokens) revoked.
    pub grants_revoked: usize,
    /// Unredeemed authorization codes made unusable.
    pub codes_revoked: usize,
    /// Back-channel logout notices queued for the client.
    pub logouts_queued: usize,
}

impl From<Withdrawal> for Withdrawn {
    fn from(w: Withdrawal) -> Self {
        Self {
            consent: w.record.into(),
            grants_revoked: w.grants_revoked,
            codes_revoked: w.codes_revoked,
            logouts_queued: w.logouts_queued,
        }
    }
}

#[utoipa::path(
    get, path = "/admin/api/users/{id}/consents", tag = "consents",
    params(("id" = String, Path, description = "User id (or username)"), ListConsents),
    responses(
        (status = 200, description = "The latest version per client, or every version", body = ConsentList),
        (status = 404, description = "No such user"),
    )
)]
pub async fn list(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
    q: web::Query<ListConsents>,
) -> Result<HttpResponse, WebError> {
    let (who, id, history) = (actor.audit_name(), id.into_inner(), q.history);
    let (user, list) = run(&state, move |ctx| {
        manage::consents::list(ctx, &who, &id, history)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ConsentList {
        user_id: user.id.to_string(),
        consents: list.into_iter().map(ConsentOut::from).collect(),
    }))
}

#[utoipa::path(
    delete, path = "/admin/api/users/{id}/consents/{client_id}", tag = "consents",
    params(
        ("id" = String, Path, description = "User id (or username)"),
        ("client_id" = String, Path, description = "The client"),
    ),
    responses(
        (status = 200, description = "Withdrawn: grants revoked, back-channel logout queued", body = Withdrawn),
        (status = 404, description = "No such user, or no consent for that client"),
        (status = 409, description = "The consent was already withdrawn"),
    )
)]
pub async fn withdraw(
    state: web::Data<WebState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (id, client) = path.into_inner();
    let who = actor.audit_name();
    let done = run(&state, move |ctx| {
        manage::consents::withdraw(ctx, &who, &id, &client, ConsentWithdrawn::AdminApi)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Withdrawn::from(done)))
}
