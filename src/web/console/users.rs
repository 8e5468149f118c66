//! The console's user pages: search, create, one user (status, second
//! factors, roles per tenant, sessions) and the actions on them. Each action
//! is the admin API's operation (`manage::users`, `manage::approvals`,
//! `manage::policy`, `manage::sessions`) under the same permission.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};

use super::{Admin, confirm, field, gate, perm, posted, query, refusal, refused_page, run, show};
use crate::domain::UserStatus;
use crate::domain::records::User;
use crate::manage::approvals::{self, GrantOutcome};
use crate::manage::{self, ManageError};
use crate::web::WebState;
use crate::web::pages::see_other;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/users", web::get().to(list))
        .route("/admin/users", web::post().to(create))
        .route("/admin/users/{id}", web::get().to(one))
        .route("/admin/users/{id}/confirm", web::get().to(ask))
        .route("/admin/users/{id}/status", web::post().to(set_status))
        .route("/admin/users/{id}/reset-mfa", web::post().to(reset_mfa))
        .route("/admin/users/{id}/roles", web::post().to(grant))
        .route("/admin/users/{id}/roles/revoke", web::post().to(revoke))
        .route(
            "/admin/users/{id}/sessions/end",
            web::post().to(end_sessions),
        );
}

/// Messages after a change (`?done=`): fixed texts, never echoed input.
fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "created" => "User created.",
        "disabled" => "Account disabled: sign-in and every token stop at once.",
        "enabled" => "Account enabled.",
        "reset_mfa" => "Second factors removed: passkeys, authenticator app and recovery codes.",
        "granted" => "Role granted. Every node enforces it within 2 seconds.",
        "pending" => {
            "Requested: granting ward-admin awaits a second administrator's approval (Approvals)."
        }
        "revoked" => "Role revoked.",
        "ended" => "Session ended.",
        "ended_all" => "Every open session of this user ended.",
        _ => return None,
    })
}

fn user_row(u: &User) -> Value {
    context! {
        id => u.id.as_str(),
        username => u.username.as_str(),
        email => u.email.as_deref(),
        display_name => u.display_name.as_deref(),
        active => u.status == UserStatus::Active,
    }
}

/// `GET /admin/users?q=`: search and the form to create one.
pub async fn list(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let admin = match gate(&state, &req, perm::USERS_READ).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    users_page(&state, &req, &admin, StatusCode::OK, context! {}).await
}

async fn users_page(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    admin: &Admin,
    status: StatusCode,
    extra: Value,
) -> HttpResponse {
    let (actor, q) = (admin.actor(), query(req, "q"));
    let needle = q.clone();
    let found = run(state, move |ctx| {
        manage::search::users(ctx, &actor, &needle, 50)
    })
    .await;
    let users: Vec<Value> = match found {
        Ok(list) => list.iter().map(user_row).collect(),
        Err(e) => return refused_page(req, &e),
    };
    let view = context! { q, users, ..extra };
    show(state, req, admin, status, "admin/users.html", view)
}

/// `POST /admin/users`: create (`users:write`); an error shows by its field.
pub async fn create(
    state: web::Data<WebState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let (admin, form) = match posted(&state, &req, &body, perm::USERS_WRITE).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let opt = |n: &str| Some(field(&form, n)).filter(|v| !v.is_empty());
    let input = manage::users::NewUserInput {
        username: field(&form, "username"),
        email: opt("email"),
        display_name: opt("display_name"),
        password: form.get("password").ok().flatten().map(str::to_string),
    };
    let typed = context! { username => input.username.clone(), email => input.email.clone(),
    display_name => input.display_name.clone() };
    let actor = admin.actor();
    match run(&state, move |ctx| manage::users::add(ctx, &actor, input)).await {
        Ok(u) => see_other(&format!("/admin/users/{}?done=created", u.id)),
        Err(e) => {
            let (f, status, message) = refusal(&e);
            let error = context! { field => f.unwrap_or("username"), message };
            users_page(&state, &req, &admin, status, context! { error, typed }).await
        }
    }
}

/// `GET /admin/users/{id}`: the user, with roles and sessions for an
/// administrator who may read them.
pub async fn one(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let admin = match gate(&state, &req, perm::USERS_READ).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let notice = done_message(&query(&req, "done"));
    let view = context! { notice };
    user_page(&state, &req, &admin, &id, (StatusCode::OK, view)).await
}

/// The user page; `extra` adds a notice or an error next to its form.
async fn user_page(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    admin: &Admin,
    ident: &str,
    (status, extra): (StatusCode, Value),
) -> HttpResponse {
    let uid = admin.user.id.to_string();
    let may = |p: crate::web::admin::auth::Permission| {
        let authz = &state.ctx.authz;
        authz.allowed(&uid, crate::authz::WARD_TENANT, p.resource, p.action)
    };
    let (roles, sessions) = (may(perm::ROLES_READ), may(perm::SESSIONS_READ));
    let (actor, ident) = (admin.actor(), ident.to_string());
    let loaded = run(state, move |ctx| {
        let user = manage::users::show(ctx, &actor, &ident)?;
        let uid = user.id.to_string();
        let access = roles
            .then(|| manage::policy::show(ctx, &actor, &uid))
            .transpose()?;
        let page = sessions
            .then(|| manage::sessions::list(ctx, &actor, &uid, None, 50))
            .transpose()?;
        Ok((user, access, page))
    })
    .await;
    let (user, access, page) = match loaded {
        Ok(x) => x,
        Err(e) => return refused_page(req, &e),
    };
    let live: Vec<Value> = page
        .map(|p| {
            p.sessions
                .into_iter()
                .filter(|s| s.live)
                .map(session_row)
                .collect()
        })
        .unwrap_or_default();
    let view = context! {
        user => user_row(&user),
        access => access.map(|a| Value::from_serialize(&a)),
        sessions => sessions.then_some(live),
        ..extra
    };
    show(state, req, admin, status, "admin/user.html", view)
}

fn session_row(s: manage::sessions::SessionInfo) -> Value {
    context! {
        sid => s.sid,
        acr => s.acr.to_string(),
        created => super::when(s.created_at),
        last_seen => super::when(s.last_seen_at),
        ip => s.ip,
        user_agent => s.user_agent,
    }
}

/// `GET /admin/users/{id}/confirm?action=…`: the confirmation page of a
/// destructive action, under the action's own permission.
pub async fn ask(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let action = query(&req, "action");
    let Some((needs, words, path)) = confirmation(&action) else {
        return crate::web::pages::page(&req, StatusCode::BAD_REQUEST, "Unknown action.");
    };
    let admin = match gate(&state, &req, needs).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let (back, target) = (
        format!("/admin/users/{id}"),
        format!("/admin/users/{id}/{path}"),
    );
    let (sid, role, tenant) = (
        query(&req, "sid"),
        query(&req, "role"),
        query(&req, "tenant"),
    );
    let status = if action == "enable" {
        "active"
    } else {
        "disabled"
    };
    let fields = [
        ("status", status),
        ("sid", sid.as_str()),
        ("role", role.as_str()),
        ("tenant", tenant.as_str()),
    ];
    let text = words
        .1
        .replace("{user}", &id)
        .replace("{role}", &role)
        .replace("{tenant}", &tenant);
    let (target, back) = (target.as_str(), back.as_str());
    confirm(
        &state,
        &req,
        &admin,
        (words.0, text.as_str(), words.2),
        (target, back),
        &fields,
    )
}

type Words = (&'static str, &'static str, &'static str);
type Permission = crate::web::admin::auth::Permission;

/// Each confirmation page: its action, permission, words (title, text,
/// button) and the path its form posts to.
const CONFIRMATIONS: &[(&str, Permission, Words, &str)] = &[
    (
        "disable",
        perm::USERS_WRITE,
        (
            "Disable this account?",
            "{user} can no longer sign in, and every token issued to them stops working at once.",
            "Disable the account",
        ),
        "status",
    ),
    (
        "enable",
        perm::USERS_WRITE,
        (
            "Enable this account?",
            "{user} can sign in again; a brute-force lock on the account is lifted.",
            "Enable the account",
        ),
        "status",
    ),
    (
        "reset_mfa",
        perm::USERS_WRITE,
        (
            "Remove every second factor?",
            "The passkeys, authenticator app and recovery codes of {user} are removed (a lost device). They sign in with their password and set up a new factor.",
            "Remove the second factors",
        ),
        "reset-mfa",
    ),
    (
        "revoke",
        perm::ROLES_WRITE,
        (
            "Revoke this role?",
            "{user} loses the role {role} in {tenant}; every node enforces it within 2 seconds.",
            "Revoke the role",
        ),
        "roles/revoke",
    ),
    (
        "end_session",
        perm::SESSIONS_WRITE,
        (
            "End this session?",
            "That browser of {user} is signed out.",
            "End the session",
        ),
        "sessions/end",
    ),
    (
        "end_all",
        perm::SESSIONS_WRITE,
        (
            "End every session?",
            "Every browser of {user} is signed out. Tokens already issued run out on their own; to stop everything at once, disable the account.",
            "End every session",
        ),
        "sessions/end",
    ),
];

/// What a confirmation page says, its permission and the path it posts to.
fn confirmation(action: &str) -> Option<(Permission, Words, &'static str)> {
    CONFIRMATIONS
        .iter()
        .find(|c| c.0 == action)
        .map(|c| (c.1, c.2, c.3))
}

/// After a change: back to the user page with what happened, or its refusal.
fn after(req: &HttpRequest, id: &str, done: Result<&str, ManageError>) -> HttpResponse {
    match done {
        Ok(code) => see_other(&format!("/admin/users/{id}?done={code}")),
        Err(e) => refused_page(req, &e),
    }
}

/// `POST /admin/users/{id}/status`: `status=disabled|active` (`users:write`).
pub async fn set_status(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (admin, form) = match posted(&state, &req, &body, perm::USERS_WRITE).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let (status, code) = match field(&form, "status").as_str() {
        "disabled" => (UserStatus::Disabled, "disabled"),
        "active" => (UserStatus::Active, "enabled"),
        _ => {
            return crate::web::pages::page(
                &req,
                StatusCode::BAD_REQUEST,
                "status is `disabled` or `active`.",
            );
        }
    };
    let (actor, ident) = (admin.actor(), id.to_string());
    let done = run(&state, move |ctx| {
        manage::users::set_status(ctx, &actor, &ident, status)
    })
    .await;
    after(&req, &id, done.map(|_| code))
}

/// `POST /admin/users/{id}/reset-mfa` (`users:write`).
pub async fn reset_mfa(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let admin = match posted(&state, &req, &body, perm::USERS_WRITE).await {
        Ok((a, _)) => a,
        Err(res) => return res,
    };
    let (actor, ident) = (admin.actor(), id.to_string());
    let done = run(&state, move |ctx| {
        manage::users::reset_mfa(ctx, &actor, &ident)
    })
    .await;
    after(&req, &id, done.map(|_| "reset_mfa"))
}

/// `POST /admin/users/{id}/roles`: grant (`roles:write`); `ward-admin` in
/// `ward` becomes a request for a second administrator.
pub async fn grant(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (admin, form) = match posted(&state, &req, &body, perm::ROLES_WRITE).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let (role, tenant) = (field(&form, "role"), field(&form, "tenant"));
    let (actor, ident) = (admin.actor(), id.to_string());
    let (r, t) = (role.clone(), tenant.clone());
    let done = run(&state, move |ctx| {
        approvals::grant_role(ctx, &actor, &ident, &r, &t)
    })
    .await;
    match done {
        Ok(GrantOutcome::Granted(_)) => see_other(&format!("/admin/users/{id}?done=granted")),
        Ok(GrantOutcome::Pending(_)) => see_other(&format!("/admin/users/{id}?done=pending")),
        Err(e) => {
            let (f, status, message) = refusal(&e);
            let grant_error = context! { field => f.unwrap_or("role"), message, role, tenant };
            user_page(
                &state,
                &req,
                &admin,
                &id,
                (status, context! { grant_error }),
            )
            .await
        }
    }
}

/// `POST /admin/users/{id}/roles/revoke` (`roles:write`), from its confirmation page.
pub async fn revoke(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (admin, form) = match posted(&state, &req, &body, perm::ROLES_WRITE).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let (role, tenant) = (field(&form, "role"), field(&form, "tenant"));
    let (actor, ident) = (admin.actor(), id.to_string());
    let done = run(&state, move |ctx| {
        manage::policy::revoke(ctx, &actor, &ident, &role, &tenant)
    })
    .await;
    after(&req, &id, done.map(|_| "revoked"))
}

/// `POST /admin/users/{id}/sessions/end`: one session (`sid`) or all (`sessions:write`).
pub async fn end_sessions(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (admin, form) = match posted(&state, &req, &body, perm::SESSIONS_WRITE).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let (actor, ident, sid) = (admin.actor(), id.to_string(), field(&form, "sid"));
    let done = run(&state, move |ctx| match sid.as_str() {
        "" => manage::sessions::end_all(ctx, &actor, &ident).map(|_| "ended_all"),
        one => manage::sessions::end(ctx, &actor, &ident, one).map(|()| "ended"),
    })
    .await;
    after(&req, &id, done)
}
