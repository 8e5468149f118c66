//! `/admin/api/users`: list, create, show, enable or disable, reset MFA.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Actor;
use super::problem::Problem;
use super::{page_limit, run};
use crate::domain::UserStatus;
use crate::manage;
use crate::storage::users::User;
use crate::web::WebState;

/// A user account. Times are Unix milliseconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub display_name: Option<String>,
    /// `active` or `disabled`.
    pub status: String,
    /// `staff` (created by an administrator) or `patient` (signed up).
    pub account_type: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            username: u.username.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            display_name: u.display_name.clone(),
            status: u.status.as_str().to_string(),
            account_type: u.account_type.clone(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// One page of users in username order.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<UserOut>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsers {
    /// Start after this username (the previous page's `next`).
    pub after: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<i64>,
}

/// A new account. Without a password it signs in with a passkey or an
/// emailed code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// 8+ characters, not a common password (NIST SP 800-63B).
    pub password: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Disabled,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `disabled` stops sign-in and every token of the user at once;
    /// `active` re-enables it and lifts a brute-force lock.
    pub status: Status,
}

/// What a reset removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaReset {
    pub user: UserOut,
    pub passkeys: usize,
    pub totp: bool,
    pub recovery_codes: usize,
}

#[utoipa::path(
    get, path = "/admin/api/users", tag = "users", params(ListUsers),
    responses((status = 200, description = "Users in username order", body = UserPage))
)]
pub async fn list(
    state: web::Data<WebState>,
    actor: Actor,
    q: web::Query<ListUsers>,
) -> Result<HttpResponse, Problem> {
    let limit = page_limit(q.limit)?;
    let after = q.into_inner().after;
    let who = actor.audit_name();
    let users = run(&state, move |ctx| {
        manage::users::list(ctx, &who, after.as_deref(), limit)
    })
    .await?;
    let next = (users.len() as i64 == limit)
        .then(|| users.last().map(|u| u.username.clone()))
        .flatten();
    Ok(HttpResponse::Ok().json(UserPage {
        users: users.iter().map(UserOut::from).collect(),
        next,
    }))
}

#[utoipa::path(
    post, path = "/admin/api/users", tag = "users", request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = UserOut),
        (status = 409, description = "The username is taken"),
        (status = 422, description = "A value is refused"),
    )
)]
pub async fn create(
    state: web::Data<WebState>,
    actor: Actor,
    body: web::Json<NewUser>,
) -> Result<HttpResponse, Problem> {
    let NewUser {
        username,
        email,
        display_name,
        password,
    } = body.into_inner();
    let who = actor.audit_name();
    let input = manage::users::NewUserInput {
        username,
        email,
        display_name,
        password,
    };
    let user = run(&state, move |ctx| manage::users::add(ctx, &who, input)).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("{}/users/{}", super::PREFIX, user.id),
        ))
        .json(UserOut::from(&user)))
}

#[utoipa::path(
    get, path = "/admin/api/users/{id}", tag = "users",
    params(("id" = String, Path, description = "User id (or username)")),
    responses(
        (status = 200, description = "The user", body = UserOut),
        (status = 404, description = "No such user"),
    )
)]
pub async fn show(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let (who, id) = (actor.audit_name(), id.into_inner());
    let user = run(&state, move |ctx| manage::users::show(ctx, &who, &id)).await?;
    Ok(HttpResponse::Ok().json(UserOut::from(&user)))
}

#[utoipa::path(
    patch, path = "/admin/api/users/{id}", tag = "users", request_body = StatusChange,
    params(("id" = String, Path, description = "User id (or username)")),
    responses(
        (status = 200, description = "The user after the change", body = UserOut),
        (status = 404, description = "No such user"),
    )
)]
pub async fn set_status(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
    body: web::Json<StatusChange>,
) -> Result<HttpResponse, Problem> {
    let status = match body.status {
        Status::Active => UserStatus::Active,
        Status::Disabled => UserStatus::Disabled,
    };
    let (who, id) = (actor.audit_name(), id.into_inner());
    let user = run(&state, move |ctx| {
        manage::users::set_status(ctx, &who, &id, status)
    })
    .await?;
    Ok(HttpResponse::Ok().json(UserOut::from(&user)))
}

#[utoipa::path(
    post, path = "/admin/api/users/{id}/reset-mfa", tag = "users",
    params(("id" = String, Path, description = "User id (or username)")),
    responses(
        (status = 200, description = "Second factors removed", body = MfaReset),
        (status = 404, description = "No such user"),
    )
)]
pub async fn reset_mfa(
    state: web::Data<WebState>,
    actor: Actor,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let (who, id) = (actor.audit_name(), id.into_inner());
    let (user, removed) = run(&state, move |ctx| manage::users::reset_mfa(ctx, &who, &id)).await?;
    Ok(HttpResponse::Ok().json(MfaReset {
        user: UserOut::from(&user),
        passkeys: removed.passkeys,
        totp: removed.totp,
        recovery_codes: removed.recovery_codes,
    }))
}
