//! Cross-cutting HTTP concerns: request ids, logs, metrics, security headers.

use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use futures_util::StreamExt;
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
    // `route`, `status` and `client_id` are filled in as they become known;
    // the path never carries a secret (codes and tokens travel in queries and
    // bodies, which no span records).
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        path = %req.path(),
        route = tracing::field::Empty,
        status = tracing::field::Empty,
        client_id = tracing::field::Empty,
    );
    // W3C Trace Context: a caller's trace continues here (only when tracing is on).
    if let Some(cx) = crate::telemetry::remote_parent(|name| {
        req.headers().get(name).and_then(|v| v.to_str().ok())
    }) {
        crate::telemetry::set_parent(&span, cx);
    }

    let result = next.call(req).instrument(span.clone()).await;
    let _enter = span.enter();
    let mut res = result?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let status = res.status().as_u16();
    span.record("route", route.as_str());
    span.record("status", status);
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
    // A 503 (the database is restarting, say) always says when to try again
    // (RFC 9110 §10.2.3), so clients and load balancers back off instead of hammering.
    if status == 503 && !res.headers().contains_key(header::RETRY_AFTER) {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
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

/// The most a request body is buffered here; every endpoint's own limit is
/// lower (64 KiB), so this only stops a body that no endpoint would take.
const MAX_BUFFERED_BODY: usize = 1024 * 1024;

/// Bound the time a client may take to send its request body.
///
/// actix answers a slow request *head* with 408 (`client_request_timeout`),
/// but a body that trickles in a byte at a time would hold the connection and
/// a worker's attention indefinitely. Here the body is read in full, within
/// `request_timeout_seconds` of the head, before any handler runs; a client
/// that is too slow gets 408 and the connection is closed (RFC 9110 §15.5.9).
/// Handlers then read the buffered body as before, with their own size limits.
pub async fn bounded_body(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if !declares_body(&req) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let limit = req
        .app_data::<web::Data<WebState>>()
        .map(|s| s.ctx.config.request_timeout_seconds)
        .unwrap_or(10);
    let mut payload = req.take_payload();
    let read = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| BodyProblem::Broken)?;
            if body.len() + chunk.len() > MAX_BUFFERED_BODY {
                return Err(BodyProblem::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    let (mut refusal, description) =
        match tokio::time::timeout(Duration::from_secs(u64::from(limit)), read).await {
            Ok(Ok(body)) => {
                req.set_payload(Payload::from(body));
                return next
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body);
            }
            Err(_) => {
                tracing::debug!("request body not received in time");
                (
                    HttpResponse::RequestTimeout(),
                    "the request body did not arrive in time",
                )
            }
            Ok(Err(BodyProblem::TooLarge)) => (
                HttpResponse::PayloadTooLarge(),
                "the request body is too large",
            ),
            Ok(Err(BodyProblem::Broken)) => (
                HttpResponse::BadRequest(),
                "the request body could not be read",
            ),
        };
    let refusal = refusal
        .insert_header((header::CONNECTION, "close"))
        .json(serde_json::json!({
            "error": "invalid_request",
            "error_description": description,
        }));
    Ok(req.into_response(refusal).map_into_right_body())
}

enum BodyProblem {
    TooLarge,
    Broken,
}

/// Content-Length above zero, or a chunked (or otherwise encoded) body.
fn declares_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}
