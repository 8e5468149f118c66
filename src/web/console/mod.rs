//! The admin console (`/admin`, docs/admin-console.md): server-rendered pages
//! over the same `manage::` operations as the CLI and the admin API, so each
//! change is the same audited operation, with the administrator as the actor
//! (`user:<id>`).
//!
//! Signing in is an ordinary Ward sign-in (the pseudo-interaction `admin`,
//! which must reach `aal2`). Every page and form runs [`gate`] first, in the
//! admin API's order (docs/admin-api.md): a session, then the page's Casbin
//! permission in the `ward` tenant (the same permission as the matching admin
//! API route; no superuser), then a multi-factor sign-in no older than
//! `admin_max_auth_age_seconds`. Forms carry a CSRF token bound to the
//! browser; destructive actions go through a confirmation page.

pub mod audit;
pub mod clients;
pub mod jobs;
pub mod keys;
pub mod review;
pub mod roles;
pub mod sessions;
pub mod users;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};

use crate::authz::WARD_TENANT;
use crate::domain::Acr;
use crate::domain::records::User;
use crate::manage::ManageError;
use crate::manage::audit_log::{self, AdminDenial};
use crate::oidc::interaction::{csrf_ok, csrf_token};
use crate::oidc::params::Params;
use crate::web::admin::auth::Permission;
use crate::web::handlers::account::signed_in;
use crate::web::pages::{Browser, browser, page, remember_browser, render, see_other};
use crate::web::{WebState, oauth};

/// What the console's CSRF tokens are bound to (with the browser's id).
const CSRF: &str = "admin-console";

/// Where a browser without a recent multi-factor sign-in is sent.
pub const SIGN_IN: &str = "/login?interaction=admin";

const EXPIRED_FORM: &str =
    "This form has expired or did not come from this site. Go back, reload the page and try again.";

/// The permissions of the console's pages, as the admin API's routes have them.
pub mod perm {
    use super::Permission;
    pub const USERS_READ: Permission = Permission::new("users", "read");
    pub const USERS_WRITE: Permission = Permission::new("users", "write");
    pub const ROLES_READ: Permission = Permission::new("roles", "read");
    pub const ROLES_WRITE: Permission = Permission::new("roles", "write");
    pub const SESSIONS_READ: Permission = Permission::new("sessions", "read");
    pub const SESSIONS_WRITE: Permission = Permission::new("sessions", "write");
    pub const CLIENTS_READ: Permission = Permission::new("clients", "read");
    pub const CLIENTS_WRITE: Permission = Permission::new("clients", "write");
    pub const AUDIT_READ: Permission = Permission::new("audit", "read");
    pub const BREAK_GLASS: Permission = Permission::new("break-glass", "review");
    /// The signing keys have no admin API route; `ward-admin` holds these.
    pub const KEYS_READ: Permission = Permission::new("keys", "read");
    pub const KEYS_WRITE: Permission = Permission::new("keys", "write");
}

/// The signed-in administrator of a console request.
pub struct Admin {
    pub user: User,
    pub b: Browser,
}

impl Admin {
    /// How the audit trail names them, as the admin API does.
    pub fn actor(&self) -> String {
        format!("user:{}", self.user.id)
    }
}

/// The console's routes, mounted by `web::configure`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(home))
        .route("/admin/", web::get().to(home))
        .configure(users::routes)
        .configure(review::routes)
        .configure(roles::routes)
        .configure(sessions::routes)
        .configure(audit::routes)
        .configure(clients::routes)
        .configure(keys::routes);
}

/// `GET /admin`: what this administrator may open.
pub async fn home(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    // The start page needs no permission of its own, but a session at all.
    let b = browser(&state, &req);
    let Ok(who) = signed_in(&state, &b).await else {
        return to_sign_in(&b);
    };
    if !fresh(&state, who.session.acr, who.session.auth_time) {
        return to_sign_in(&b);
    }
    let admin = Admin { user: who.user, b };
    show(
        &state,
        &req,
        &admin,
        StatusCode::OK,
        "admin/home.html",
        context! {},
    )
}

fn to_sign_in(b: &Browser) -> HttpResponse {
    let mut res = see_other(SIGN_IN);
    remember_browser(&mut res, b);
    res
}

/// Multi-factor (`aal2`, `phr`, `phrh`) and no older than `admin_max_auth_age_seconds`.
fn fresh(state: &WebState, acr: Acr, auth_time: i64) -> bool {
    let max_ms = i64::from(state.ctx.config.admin_max_auth_age_seconds) * 1000;
    acr.satisfies(Acr::Aal2) && state.ctx.clock.now_ms() - auth_time <= max_ms
}

/// The administrator of a request allowed `perm`, or the answer instead: the
/// sign-in page without a session, a 403 page without the permission (even
/// for a fresh sign-in: no one is sent through a second factor for nothing),
/// the sign-in page again (a step-up) when the sign-in is weak or old.
pub async fn gate(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    perm: Permission,
) -> Result<Admin, HttpResponse> {
    let b = browser(state, req);
    let Ok(who) = signed_in(state, &b).await else {
        return Err(to_sign_in(&b));
    };
    let uid = who.user.id.to_string();
    if !state
        .ctx
        .authz
        .allowed(&uid, WARD_TENANT, perm.resource, perm.action)
    {
        deny(state, req, (&b, &uid), perm, "forbidden").await?;
        let why = format!("This page needs the permission `{perm}` in the `ward` tenant.");
        return Err(page(req, StatusCode::FORBIDDEN, &why));
    }
    if !fresh(state, who.session.acr, who.session.auth_time) {
        deny(state, req, (&b, &uid), perm, "step_up").await?;
        return Err(to_sign_in(&b));
    }
    Ok(Admin { user: who.user, b })
}

/// Record a refusal as the admin API does (`admin.denied`); it is answered
/// only once it is on the record.
async fn deny(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    (b, uid): (&Browser, &str),
    perm: Permission,
    reason: &'static str,
) -> Result<(), HttpResponse> {
    let denial = AdminDenial {
        user_id: uid.to_string(),
        method: req.method().as_str().to_string(),
        route: req
            .match_pattern()
            .unwrap_or_else(|| req.path().to_string()),
        permission: perm.to_string(),
        reason,
        ip: b.ip.clone(),
    };
    let ctx = state.ctx.clone();
    match web::block(move || audit_log::record_admin_denial(&ctx, &denial)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(unavailable(req)),
    }
}

/// A posted console form: checked against this browser's CSRF token before
/// anything else, then [`gate`]d like a page.
pub async fn posted(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    body: &web::Bytes,
    perm: Permission,
) -> Result<(Admin, Params), HttpResponse> {
    let b = browser(state, req);
    let form =
        oauth::form(req, body).map_err(|e| page(req, StatusCode::BAD_REQUEST, &e.description))?;
    if b.is_new || !csrf_ok(&b.token, CSRF, &field(&form, "csrf")) {
        return Err(page(req, StatusCode::FORBIDDEN, EXPIRED_FORM));
    }
    let admin = gate(state, req, perm).await?;
    Ok((admin, form))
}

/// A form or query field, trimmed; empty when absent or repeated.
pub fn field(form: &Params, name: &str) -> String {
    form.get(name)
        .ok()
        .flatten()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// A query parameter of a page.
pub fn query(req: &HttpRequest, name: &str) -> String {
    field(&oauth::query(req), name)
}

/// Render a console page: `view` plus what every page shows (the CSRF token,
/// who is signed in, the navigation this administrator may use).
pub fn show(
    state: &WebState,
    req: &HttpRequest,
    admin: &Admin,
    status: StatusCode,
    template: &str,
    view: Value,
) -> HttpResponse {
    let uid = admin.user.id.as_str();
    let may = |p: Permission| {
        state
            .ctx
            .authz
            .allowed(uid, WARD_TENANT, p.resource, p.action)
    };
    let base = context! {
        csrf => csrf_token(&admin.b.token, CSRF),
        me => admin.user.username.as_str(),
        nav => context! {
            users => may(perm::USERS_READ),
            roles => may(perm::ROLES_READ),
            approvals => may(perm::ROLES_READ),
            sessions => may(perm::SESSIONS_READ),
            clients => may(perm::CLIENTS_READ),
            audit => may(perm::AUDIT_READ),
            break_glass => may(perm::BREAK_GLASS),
            keys => may(perm::KEYS_READ),
        },
        max_age_minutes => state.ctx.config.admin_max_auth_age_seconds / 60,
    };
    render(state, req, status, template, context! { ..view, ..base })
}

/// Run a `manage` operation on the blocking pool.
pub async fn run<T, F>(state: &web::Data<WebState>, f: F) -> Result<T, ManageError>
where
    F: FnOnce(&crate::app::AppContext) -> Result<T, ManageError> + Send + 'static,
    T: Send + 'static,
{
    let ctx = state.ctx.clone();
    web::block(move || f(&ctx))
        .await
        .unwrap_or_else(|_| Err(ManageError::Internal("the blocking pool failed".into())))
}

/// A refused operation as the page shows it: the field it concerns (if any),
/// the status and a message fit for the administrator. A failure of Ward
/// itself is logged and shown without its cause.
pub fn refusal(e: &ManageError) -> (Option<&'static str>, StatusCode, String) {
    match e {
        ManageError::Invalid(v) => (
            Some(v.field),
            StatusCode::UNPROCESSABLE_ENTITY,
            v.message.clone(),
        ),
        ManageError::Policy(p) => (
            Some("password"),
            StatusCode::UNPROCESSABLE_ENTITY,
            p.to_string(),
        ),
        ManageError::Conflict(m) => (None, StatusCode::CONFLICT, m.clone()),
        ManageError::NotFound(m) => (None, StatusCode::NOT_FOUND, m.clone()),
        ManageError::Refused(m) => (None, StatusCode::FORBIDDEN, m.clone()),
        e if e.is_unavailable() => (
            None,
            StatusCode::SERVICE_UNAVAILABLE,
            "The database is not answering; try again shortly.".into(),
        ),
        other => {
            tracing::error!(error = %other, "admin console operation failed");
            (
                None,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Ward could not do this; the cause is in its log.".into(),
            )
        }
    }
}

/// A refused operation as an error page (for actions without a form field).
pub fn refused_page(req: &HttpRequest, e: &ManageError) -> HttpResponse {
    let (_, status, message) = refusal(e);
    page(req, status, &message)
}

fn unavailable(req: &HttpRequest) -> HttpResponse {
    page(
        req,
        StatusCode::SERVICE_UNAVAILABLE,
        "The admin console cannot answer right now. Try again in a moment.",
    )
}

/// A confirmation page for a destructive action: what it does, and the form
/// that does it (`fields`: the hidden fields it posts).
pub fn confirm(
    state: &WebState,
    req: &HttpRequest,
    admin: &Admin,
    (title, text, button): (&str, &str, &str),
    (action, back): (&str, &str),
    fields: &[(&str, &str)],
) -> HttpResponse {
    let fields: Vec<Value> = fields
        .iter()
        .map(|(name, value)| context! { name, value })
        .collect();
    let view = context! { title, text, button, action, back, fields };
    show(
        state,
        req,
        admin,
        StatusCode::OK,
        "admin/confirm.html",
        view,
    )
}

/// Unix milliseconds as the pages show them.
pub fn when(ms: i64) -> String {
    crate::clock::to_rfc3339(ms)
}
