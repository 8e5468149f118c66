use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};
use minijinja::context;

use crate::web::WebState;
use crate::web::error::WebError;

/// What is running here and what to do next.
pub async fn index(state: web::Data<WebState>) -> Result<HttpResponse, WebError> {
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
    let html = page.map_err(|e| {
        tracing::error!(error = %e, "rendering the home page failed");
        WebError::internal().with_message("The page could not be rendered.")
    })?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(html))
}
