//! The console's roles and policy page: per tenant, each role, what it
//! permits and who holds it, with the policy version (`manage::search::policy`);
//! granting from here is the user page's grant (`manage::approvals::grant_role`:
//! `ward-admin` in `ward` waits for a second administrator), revoking goes
//! through the user's confirmation page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};

use super::{Admin, field, gate, perm, posted, query, refusal, refused_page, run, show};
use crate::manage;
use crate::manage::approvals::GrantOutcome;
use crate::web::WebState;
use crate::web::pages::see_other;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/roles", web::get().to(page))
        .route("/admin/roles/grant", web::post().to(grant));
}

/// `GET /admin/roles` (`roles:read`).
pub async fn page(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let admin = match gate(&state, &req, perm::ROLES_READ).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let notice = match query(&req, "done").as_str() {
        "granted" => Some("Role granted. Every node enforces it within 2 seconds."),
        "pending" => Some(
            "Requested: granting ward-admin awaits a second administrator's approval (Approvals).",
        ),
        _ => None,
    };
    roles_page(&state, &req, &admin, StatusCode::OK, context! { notice }).await
}

async fn roles_page(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    admin: &Admin,
    status: StatusCode,
    extra: Value,
) -> HttpResponse {
    let actor = admin.actor();
    match run(state, move |ctx| manage::search::policy(ctx, &actor)).await {
        Ok(p) => {
            let view = context! { policy => Value::from_serialize(&p), ..extra };
            show(state, req, admin, status, "admin/roles.html", view)
        }
        Err(e) => refused_page(req, &e),
    }
}

/// `POST /admin/roles/grant` (`roles:write`): `user` (username or id), `role`, `tenant`.
pub async fn grant(state: web::Data<WebState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (admin, form) = match posted(&state, &req, &body, perm::ROLES_WRITE).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let (user, role, tenant) = (
        field(&form, "user"),
        field(&form, "role"),
        field(&form, "tenant"),
    );
    let (actor, u, r, t) = (admin.actor(), user.clone(), role.clone(), tenant.clone());
    let done = run(&state, move |ctx| {
        manage::approvals::grant_role(ctx, &actor, &u, &r, &t)
    })
    .await;
    match done {
        Ok(GrantOutcome::Granted(_)) => see_other("/admin/roles?done=granted"),
        Ok(GrantOutcome::Pending(_)) => see_other("/admin/roles?done=pending"),
        Err(e) => {
            let (f, status, message) = refusal(&e);
            let f = match (&e, f) {
                (manage::ManageError::NotFound(m), _) if m.starts_with("no user") => "user",
                (_, Some(f)) => f,
                _ => "role",
            };
            let error = context! { field => f, message, user, role, tenant };
            roles_page(&state, &req, &admin, status, context! { error }).await
        }
    }
}
