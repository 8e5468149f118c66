use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use crate::web::{WebState, error};

/// What is running here and what to do next.
pub async fn index(req: HttpRequest, state: web::Data<WebState>) -> HttpResponse {
    let issuer = &state.ctx.config.issuer;
    let page = state.views.render(
        "pages/index.html",
        context! {
            issuer,
            discovery_url => format!("{issuer}/.well-known/openid-configuration"),
            version => env!("CARGO_PKG_VERSION"),
            database => if state.ctx.db.is_postgres() { "PostgreSQL" } else { "SQLite" },
        },
    );
    match page {
        Ok(html) => HttpResponse::Ok()
            .content_type(ContentType::html())
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "rendering the home page failed");
            error::page(
                &req,
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "The page could not be rendered.",
            )
        }
    }
}
