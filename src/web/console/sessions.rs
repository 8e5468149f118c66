//! The console's sessions overview: open sessions now, per tenant and
//! assurance level (`manage::search::session_counts`). Ending them is on
//! each user's page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};

use super::{gate, perm, refused_page, run, show};
use crate::manage;
use crate::web::WebState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/sessions", web::get().to(page));
}

/// `GET /admin/sessions` (`sessions:read`).
pub async fn page(state: web::Data<WebState>, req: HttpRequest) -> HttpResponse {
    let admin = match gate(&state, &req, perm::SESSIONS_READ).await {
        Ok(a) => a,
        Err(res) => return res,
    };
    let actor = admin.actor();
    match run(&state, move |ctx| {
        manage::search::session_counts(ctx, &actor)
    })
    .await
    {
        Ok((total, tenants)) => {
            let levels = crate::domain::acr::ACR_VALUES;
            let view = context! { total, levels, tenants => Value::from_serialize(&tenants) };
            show(
                &state,
                &req,
                &admin,
                StatusCode::OK,
                "admin/sessions.html",
                view,
            )
        }
        Err(e) => refused_page(&req, &e),
    }
}
