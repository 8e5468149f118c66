//! The console's review pages: open approvals of the dual control of
//! `ward-admin` grants (`manage::approvals`), and break-glass elevations
//! awaiting sign-off (`manage::break_glass`). The rules (never approve your
//! own request, never sign off your own elevation) are the manage layer's;
//! the page shows its refusal next to the item.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};

use super::{Admin, field, gate, perm, posted, query, refusal, refused_page, run, show, when};
use crate::manage;
use crate::manage::records::{Approval, Elevation};
use crate::web::WebState;
use crate::web::pages::see_other;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/approvals", web::get().to(approvals))
        .route("/admin/approvals/{id}/approve", web::post().to(approve))
        .route("/admin/approvals/{id}/reject", web::post().to(reject))
        .route("/admin/break-glass", web::get().to(elevations))
        .route("/admin/break-glass/{id}/review", web::post().to(sign_off));
}

fn approval_row(a: &Approval, actor: &str) -> Value {
    context! {
        id => a.id,
        subject => a.subject,
        erasure => a.kind == manage::erasure::USER_ERASE,
        reason => a.details["reason"].as_str(),
        role => a.details["role"].as_str(),
        tenant => a.details["tenant"].as_str(),
        requested_by => a.requested_by,
        requested_at => when(a.requested_at),
        expires_at => when(a.expires_at),
        mine => a.requested_by == actor,
    }
}

/// `GET /admin/approvals` (`roles:read`): requests awaiting a second administrator.
pub async fn approvals(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let admin = match gate(&state, &req, perm::ROLES_READ).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let notice = match query(&req, "done").as_str() {
        "approved" => Some("Approved: the role is granted, or the person is erased."),
        "rejected" => Some("Rejected."),
        _ => None,
    };
    approvals_page(&state, &req, &admin, StatusCode::OK, context! { notice }).await
}

async fn approvals_page(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    admin: &Admin,
    status: StatusCode,
    extra: Value,
) -> HttpResponse {
    let actor = admin.actor();
    let list = match run(state, |ctx| manage::approvals::list(ctx, true)).await {
        Ok(l) => l,
        Err(e) => return refused_page(req, &e),
    };
    let items: Vec<Value> = list.iter().map(|a| approval_row(a, &actor)).collect();
    let view = context! { items, ..extra };
    show(state, req, admin, status, "admin/approvals.html", view)
}

/// `POST /admin/approvals/{id}/approve` (`roles:write`).
pub async fn approve(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    decide(state, req, id.into_inner(), body, true).await
}

/// `POST /admin/approvals/{id}/reject` (`roles:write`).
pub async fn reject(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    decide(state, req, id.into_inner(), body, false).await
}

async fn decide(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: String,
    body: web::Bytes,
    approve: bool,
) -> HttpResponse {
    let admin = match posted(&state, &req, &body, perm::ROLES_WRITE).await {
        Ok((a, _)) => a,
        Err(res) => return res,
    };
    let (actor, which) = (admin.actor(), id.clone());
    let done = run(&state, move |ctx| {
        if approve {
            manage::approvals::approve_request(ctx, &actor, &which).map(|_| "approved")
        } else {
            manage::approvals::reject(ctx, &actor, &which).map(|_| "rejected")
        }
    })
    .await;
    match done {
        Ok(code) => see_other(&format!("/admin/approvals?done={code}")),
        Err(e) => {
            let (_, status, message) = refusal(&e);
            let error = context! { id, message };
            approvals_page(&state, &req, &admin, status, context! { error }).await
        }
    }
}

fn elevation_row(e: &Elevation) -> Value {
    context! {
        id => e.id,
        user_id => e.user_id,
        tenant => e.tenant,
        reason => e.reason,
        started_at => when(e.started_at),
        expires_at => when(e.expires_at),
        minutes => (e.expires_at - e.started_at) / 60_000,
    }
}

/// `GET /admin/break-glass` (`break-glass:review`): elevations awaiting review.
pub async fn elevations(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let admin = match gate(&state, &req, perm::BREAK_GLASS).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let notice = (query(&req, "done") == "reviewed").then_some("Signed off.");
    elevations_page(&state, &req, &admin, StatusCode::OK, context! { notice }).await
}

async fn elevations_page(
    state: &web::Data<WebState>,
    req: &HttpRequest,
    admin: &Admin,
    status: StatusCode,
    extra: Value,
) -> HttpResponse {
    let actor = admin.actor();
    let list = run(state, move |ctx| {
        manage::break_glass::list(ctx, &actor, true, 200)
    })
    .await;
    let items: Vec<Value> = match list {
        Ok(l) => l.iter().map(elevation_row).collect(),
        Err(e) => return refused_page(req, &e),
    };
    let view = context! { items, ..extra };
    show(state, req, admin, status, "admin/break_glass.html", view)
}

/// `POST /admin/break-glass/{id}/review` (`break-glass:review`): sign off with a note.
pub async fn sign_off(
    state: web::Data<WebState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (admin, form) = match posted(&state, &req, &body, perm::BREAK_GLASS).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let (actor, reviewer, which) = (admin.actor(), admin.user.id.to_string(), id.to_string());
    let note = field(&form, "note");
    let done = run(&state, move |ctx| {
        manage::break_glass::sign_off(ctx, &actor, &reviewer, &which, &note)
    })
    .await;
    match done {
        Ok(_) => see_other("/admin/break-glass?done=reviewed"),
        Err(e) => {
            let (_, status, message) = refusal(&e);
            let error = context! { id => id.as_str(), message };
            elevations_page(&state, &req, &admin, status, context! { error }).await
        }
    }
}
