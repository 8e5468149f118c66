//! Cross-cutting HTTP concerns: request ids, logs, metrics, security headers.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use tracing::Instrument;

use super::{WebState, client_ip};

/// The request id, also available to handlers through request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Give every request an id (response header `X-Request-Id`, and a field on
/// every log line written while handling it), log it, and count it.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = uuid::Uuid::new_v4().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let state = req.app_data::<web::Data<WebState>>().cloned();
    let ip = state.as_ref().and_then(|s| {
        let xff = client_ip::forwarded_for(
            req.headers()
                .get_all("x-forwarded-for")
                .filter_map(|v| v.to_str().ok()),
        );
        client_ip::resolve(
            req.peer_addr().map(|a| a.ip()),
            xff.as_deref(),
            &s.ctx.config.trusted_proxies,
        )
    });
    // Bounded label values: an arbitrary method must not create a new metric series.
    let method = match req.method().as_str() {
        m @ ("GET" | "POST" | "HEAD" | "PUT" | "DELETE" | "PATCH" | "OPTIONS") => m,
        _ => "OTHER",
    }
    .to_string();
    let span =
        tracing::info_span!("request", request_id = %id, method = %method, path = %req.path());

    let result = next.call(req).instrument(span.clone()).await;
    let _enter = span.enter();
    let mut res = result?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    if let Some(state) = &state {
        state
            .metrics
            .observe(&route, &method, status, elapsed.as_secs_f64());
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
    tracing::info!(
        status,
        route = %route,
        client_ip = ip.map(|i| i.to_string()).unwrap_or_default(),
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    Ok(res)
}

/// No inline script or style anywhere, so the CSP needs no `unsafe-inline`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let https = req
        .app_data::<web::Data<WebState>>()
        .map(|s| s.ctx.config.serves_https())
        .unwrap_or(false);
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    // A handler may set a page-specific policy (the form_post page does).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    Ok(res)
}
