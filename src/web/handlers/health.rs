use std::time::Duration;

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::web::WebState;

/// The process is alive and serving; touches nothing else.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(json!({ "status": "ok" }))
}

/// The database answers. The check runs on the blocking pool and waits at most 2 s.
pub async fn readyz(state: web::Data<WebState>) -> HttpResponse {
    let db = state.ctx.db.clone();
    // Bounded on both sides: the pool wait inside, and the whole check outside
    // (a stalled server can hold a statement far longer than the pool wait).
    let check = web::block(move || db.ping(Duration::from_secs(2)));
    let ready = matches!(
        tokio::time::timeout(Duration::from_millis(2500), check).await,
        Ok(Ok(true))
    );
    let body = json!({ "status": if ready { "ready" } else { "unavailable" }, "database": if ready { "ok" } else { "unreachable" } });
    let mut res = if ready {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    res.insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(body)
}

pub async fn metrics(state: web::Data<WebState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
