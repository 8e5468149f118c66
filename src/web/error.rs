//! Errors at the HTTP edge: an HTML page for browsers, JSON for API clients.
//! Nothing internal (SQL, paths, stack traces) reaches the response.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use minijinja::context;

use super::WebState;
use super::middleware::RequestId;

fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(|a| a.contains("application/json") && !a.contains("text/html"))
        .unwrap_or(false)
}

/// Render an error for a person (HTML) or a program (JSON).
pub fn page(req: &HttpRequest, status: StatusCode, code: &str, message: &str) -> HttpResponse {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    if wants_json(req) {
        return HttpResponse::build(status)
            .json(serde_json::json!({ "error": code, "error_description": message, "request_id": request_id }));
    }
    let html = req
        .app_data::<web::Data<WebState>>()
        .and_then(|s| {
            s.views
                .render("pages/error.html", context! { status => status.as_u16(), title => status.canonical_reason().unwrap_or("Error"), message, request_id })
                .ok()
        })
        .unwrap_or_else(|| format!("<!doctype html><title>{}</title><p>{}</p>", status.as_u16(), status.canonical_reason().unwrap_or("Error")));
    HttpResponse::build(status)
        .content_type(ContentType::html())
        .body(html)
}
